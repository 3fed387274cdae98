import { Registry, collectDefaultMetrics } from "prom-client";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { KubeClient, KubeObject } from "../client.ts";
import { Informer } from "../informer.ts";
import type { Resource } from "../resources.ts";
import type { Controller } from "./controller.ts";
import { LeaderElector } from "./leader.ts";
import { RuntimeMetrics } from "./metrics.ts";
import { healthHandler, listen, metricsHandler, type HealthCheck, type ListeningServer } from "./servers.ts";

/** Something the manager runs until shutdown, e.g. the extender's or the planner's server. */
export interface Runnable {
  name: string;
  /** Resolves when the runnable has stopped after the signal aborted. */
  start(signal: AbortSignal): Promise<void>;
  /** When true it runs only on the elected leader (controllers); otherwise on every replica. */
  needsLeaderElection: boolean;
}

export interface ManagerOptions {
  client: KubeClient;
  registry?: Registry;
  clock?: Clock;
  log?: Logger;
  /** host:port of /metrics; undefined disables it. */
  metricsAddress?: string;
  /** host:port of /healthz and /readyz; undefined disables it. */
  healthAddress?: string;
  leaderElection?: {
    namespace: string;
    name: string;
    identity: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  /** How long shutdown waits for runnables to drain. */
  gracefulShutdownMs?: number;
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i) || "0.0.0.0", port: Number(address.slice(i + 1)) };
}

/**
 * Owns the process plumbing shared by every controller: one informer per watched resource, the
 * metrics registry, health and metrics endpoints, leader election, and ordered shutdown.
 */
export class Manager {
  readonly client: KubeClient;
  readonly registry: Registry;
  readonly metrics: RuntimeMetrics;
  readonly clock: Clock;
  readonly log: Logger;
  private readonly o: ManagerOptions;
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly runnables: Runnable[] = [];
  private readonly readiness = new Map<string, HealthCheck>();
  private servers: ListeningServer[] = [];
  private leading = false;

  constructor(options: ManagerOptions) {
    this.o = options;
    this.client = options.client;
    this.registry = options.registry ?? new Registry();
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.metrics = new RuntimeMetrics(this.registry);
    this.metrics.observeClient(this.client);
  }

  /** The shared informer for a resource (and optional namespace/selector), created on first use. */
  informer<T extends KubeObject>(
    resource: Resource,
    o: { namespace?: string; labelSelector?: string } = {},
  ): Informer<T> {
    const key = `${resource.group}/${resource.version}/${resource.plural}|${o.namespace ?? ""}|${o.labelSelector ?? ""}`;
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>({
        client: this.client,
        resource,
        namespace: o.namespace,
        labelSelector: o.labelSelector,
        clock: this.clock,
        log: this.log.with({ component: "informer" }),
      });
      this.informers.set(key, informer);
    }
    return informer as unknown as Informer<T>;
  }

  addController(c: Pick<Controller<KubeObject>, "name" | "start">): void {
    if (this.runnables.some((r) => r.name === c.name))
      throw new Error(`a controller named ${c.name} is already registered`);
    this.runnables.push({ name: c.name, needsLeaderElection: true, start: (signal) => c.start(signal) });
  }

  add(runnable: Runnable): void {
    if (this.runnables.some((r) => r.name === runnable.name))
      throw new Error(`a runnable named ${runnable.name} is already registered`);
    this.runnables.push(runnable);
  }

  /** A readiness check for /readyz: returns a problem, or undefined when ready. */
  addReadyCheck(name: string, check: HealthCheck): void {
    this.readiness.set(name, check);
  }

  /** Addresses the servers actually bound (useful with port 0). */
  ports(): number[] {
    return this.servers.map((s) => s.port);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Runs everything until the signal aborts, then shuts down in order and resolves. */
  async start(signal: AbortSignal): Promise<void> {
    collectDefaultMetrics({ register: this.registry, prefix: "kaito_process_" });
    this.readiness.set("informers", () => {
      if (!this.leading && this.o.leaderElection) return undefined;
      const pending = [...this.informers.values()]
        .filter((i) => !i.hasSynced())
        .map((i) => i.resource.plural);
      return pending.length ? `not synced: ${pending.join(", ")}` : undefined;
    });
    if (this.o.metricsAddress !== undefined) {
      const { host, port } = splitAddress(this.o.metricsAddress);
      this.servers.push(await listen(metricsHandler(this.registry), port, host, "metrics server"));
    }
    if (this.o.healthAddress !== undefined) {
      const { host, port } = splitAddress(this.o.healthAddress);
      this.servers.push(await listen(healthHandler(this.readiness), port, host, "health probe server"));
    }
    const everywhere = this.runnables.filter((r) => !r.needsLeaderElection).map((r) => this.run(r, signal));
    const leaderOnly = async (leading: AbortSignal) => {
      this.leading = true;
      try {
        const informers = [...this.informers.values()].map((i) => i.start(leading));
        await Promise.all(
          this.runnables.filter((r) => r.needsLeaderElection).map((r) => this.run(r, leading)),
        );
        await Promise.all(informers);
      } finally {
        this.leading = false;
      }
    };
    try {
      if (this.o.leaderElection) {
        const elector = new LeaderElector({
          client: this.client,
          ...this.o.leaderElection,
          clock: this.clock,
          log: this.log.with({ component: "leader-election" }),
        });
        await elector.run(signal, leaderOnly);
        if (!signal.aborted) throw new Error("lost leadership");
      } else {
        await leaderOnly(signal);
      }
    } finally {
      await Promise.all(everywhere);
      await Promise.all(this.servers.map((s) => s.close()));
      this.servers = [];
    }
  }

  private async run(r: Runnable, signal: AbortSignal): Promise<void> {
    try {
      await r.start(signal);
    } catch (e) {
      this.log.error("runnable failed", { runnable: r.name, error: errorMessage(e) });
      throw e;
    }
  }
}
