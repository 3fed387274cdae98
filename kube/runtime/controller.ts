import { systemClock, type Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { KubeObject } from "../client.ts";
import { objectKey, type Informer } from "../informer.ts";
import type { RuntimeMetrics, ReconcileOutcome } from "./metrics.ts";
import { WorkQueue, type RateLimit } from "./queue.ts";
import { isTerminalError, type Reconciler } from "./reconciler.ts";

/** Maps a changed object of a watched kind to the primary keys to reconcile. */
export type KeyMapper = (object: KubeObject) => string[];

export interface Source {
  informer: Informer<KubeObject>;
  map: KeyMapper;
}

export interface ControllerOptions<T extends KubeObject> {
  name: string;
  primary: Informer<T>;
  sources: Source[];
  reconciler: Reconciler<T>;
  concurrency: number;
  metrics: RuntimeMetrics;
  clock?: Clock;
  log?: Logger;
  rateLimit?: RateLimit;
}

/**
 * Runs a Reconciler over keys from its informers. Level-triggered: a key carries only
 * namespace/name; each pass reads the cached object again, and a vanished object is dropped.
 * The reconciler gets its own copy, so it can mutate it freely.
 */
export class Controller<T extends KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly o: ControllerOptions<T>;
  private readonly log: Logger;
  private readonly clock: Clock;

  constructor(options: ControllerOptions<T>) {
    this.o = options;
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.log = (options.log ?? silentLogger).with({ controller: options.name });
    this.queue = new WorkQueue({
      clock: this.clock,
      rateLimit: options.rateLimit,
      observer: options.metrics.queueObserver(options.name),
    });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Starts the workers once every informer has synced; resolves after shutdown has drained them. */
  async start(signal: AbortSignal): Promise<void> {
    const { primary, sources } = this.o;
    const unsubscribe = [
      primary.on((e) => this.enqueue(objectKey(e.object))),
      ...sources.map((s) =>
        s.informer.on((e) => {
          for (const key of s.map(e.object)) this.enqueue(key);
          if (e.type === "updated") for (const key of s.map(e.old)) this.enqueue(key);
        }),
      ),
    ];
    signal.addEventListener("abort", () => this.queue.shutdown(), { once: true });
    try {
      await Promise.all([primary, ...sources.map((s) => s.informer)].map((i) => i.waitForSync()));
      for (const o of primary.list()) this.enqueue(objectKey(o));
      await Promise.all(Array.from({ length: this.o.concurrency }, () => this.worker(signal)));
    } finally {
      for (const off of unsubscribe) off();
    }
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.o.metrics.activeWorkers.inc({ controller: this.name });
      try {
        await this.process(key, signal);
      } finally {
        this.o.metrics.activeWorkers.dec({ controller: this.name });
        this.queue.done(key);
      }
    }
  }

  private async process(key: string, signal: AbortSignal): Promise<void> {
    const cached = this.o.primary.get(key);
    if (!cached) {
      this.queue.forget(key);
      return;
    }
    const started = this.clock.now();
    const log = this.log.with({ key });
    let outcome: ReconcileOutcome;
    try {
      const result = await this.o.reconciler.reconcile(structuredClone(cached), { log, signal });
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        outcome = "requeue_after";
        this.queue.addAfter(key, result.requeueAfterMs);
      } else outcome = "success";
    } catch (e) {
      if (isTerminalError(e)) {
        outcome = "terminal_error";
        this.queue.forget(key);
        log.error("reconcile failed for good", { error: errorMessage(e) });
      } else {
        outcome = "error";
        if (!signal.aborted) this.queue.addRateLimited(key);
        log.warn("reconcile failed, will retry", {
          error: errorMessage(e),
          retries: this.queue.retries(key),
        });
      }
    }
    this.o.metrics.observeReconcile(this.name, outcome, (this.clock.now() - started) / 1000);
  }
}

/** Keys of the owners of `kind` named in an object's controller ownerReference. */
export function ownerKeys(kind: string): KeyMapper {
  return (o) =>
    (o.metadata?.ownerReferences ?? [])
      .filter((ref) => ref.kind === kind && ref.controller)
      .map((ref) => (o.metadata?.namespace ? `${o.metadata.namespace}/${ref.name}` : ref.name));
}
