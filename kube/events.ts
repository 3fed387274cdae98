import { randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import { silentLogger, type Logger } from "../lib/log.ts";
import type { KubeClient, KubeObject } from "./client.ts";
import { resources } from "./resources.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  /** Records an event on the object; never throws (events are best effort). */
  event(object: KubeObject, type: EventType, reason: string, message: string): void;
}

interface CoreEvent extends KubeObject {
  count?: number;
  lastTimestamp?: string;
}

/**
 * Writes core/v1 Events as `kubectl describe` shows them. A repeat of the same event on the same
 * object within the aggregation window bumps the first one's count instead of creating another,
 * so a retry loop cannot flood etcd.
 */
export class KubeEventRecorder implements EventRecorder {
  private readonly recent = new Map<string, { name: string; namespace: string; count: number; at: number }>();
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly windowMs: number;

  constructor(o: {
    client: KubeClient;
    component: string;
    clock?: Clock;
    log?: Logger;
    aggregationWindowMs?: number;
  }) {
    this.client = o.client;
    this.component = o.component;
    this.clock = o.clock ?? systemClock;
    this.log = o.log ?? silentLogger;
    this.windowMs = o.aggregationWindowMs ?? 10 * 60_000;
  }

  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    void this.write(object, type, reason, message).catch((e: unknown) =>
      this.log.warn("could not record event", { reason, error: errorMessage(e) }),
    );
  }

  private async write(object: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = object.metadata ?? {};
    // Events of cluster-scoped objects (Machines, Nodes) live in "default", as kubectl expects.
    const namespace = meta.namespace ?? "default";
    const now = this.clock.now();
    const stamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z");
    const key = `${meta.uid ?? meta.name}|${type}|${reason}|${message}`;
    const seen = this.recent.get(key);
    if (seen && now - seen.at < this.windowMs) {
      seen.count++;
      seen.at = now;
      await this.client.patch(
        resources.events,
        seen.name,
        seen.namespace,
        { count: seen.count, lastTimestamp: stamp },
        "merge",
      );
      return;
    }
    if (this.recent.size > 5000) this.recent.clear();
    const name = `${meta.name}.${randomBytes(8).toString("hex")}`;
    await this.client.create<CoreEvent>(resources.events, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      type,
      reason,
      message,
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      count: 1,
    } as CoreEvent);
    this.recent.set(key, { name, namespace, count: 1, at: now });
  }
}

/** Keeps events in memory, for tests that assert on decisions. */
export class MemoryEventRecorder implements EventRecorder {
  readonly events: { object: string; type: EventType; reason: string; message: string }[] = [];
  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    const m = object.metadata ?? {};
    this.events.push({
      object: m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? ""),
      type,
      reason,
      message,
    });
  }
}
