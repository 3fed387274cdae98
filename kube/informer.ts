import { systemClock, type Clock } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import { silentLogger, type Logger } from "../lib/log.ts";
import type { KubeClient, KubeObject, WatchEvent } from "./client.ts";
import { KubeApiError, isGone } from "./errors.ts";
import type { Resource } from "./resources.ts";

export type InformerEvent<T> =
  { type: "added"; object: T } | { type: "updated"; object: T; old: T } | { type: "deleted"; object: T };

/**
 * Trims or drops objects before they are cached, like client-go's SetTransform: `apply` returns
 * the object to keep (a smaller copy is fine) or undefined to keep nothing. An object that stops
 * passing leaves the cache as a deletion, one that starts passing arrives as an addition. The
 * name identifies the transform when informers are shared.
 */
export interface ObjectTransform {
  readonly name: string;
  apply(object: KubeObject): KubeObject | undefined;
}

/** The two calls an informer makes; KubeClient implements them. */
export type ListWatcher = Pick<KubeClient, "list" | "watch">;

export interface InformerOptions {
  client: ListWatcher;
  resource: Resource;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  transform?: ObjectTransform;
  clock?: Clock;
  log?: Logger;
  /** Items per list page. */
  pageSize?: number;
  /**
   * Timeout of each list page (default 60 s, kube-apiserver's own --request-timeout): a page of a
   * large cluster may take longer than the client's default for ordinary calls.
   */
  listPageTimeoutMs?: number;
  /** The server ends each watch after a random time in [t, 2t) seconds, so clients don't sync up. */
  watchTimeoutSeconds?: number;
  /** A watch that delivers no byte (not even a bookmark) for this long is assumed dead and restarted. */
  watchdogMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Lists forced by 410 Gone: the watch fell behind etcd's compaction. */
  relistsOnGone: number;
  watchdogRestarts: number;
  errors: number;
}

/** `namespace/name` for namespaced objects, `name` otherwise: the work-queue key. */
export function objectKey(o: KubeObject): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : (m.name ?? "");
}

class WatchdogFired extends Error {
  override readonly name = "WatchdogFired";
}

/**
 * A list+watch cache of one resource (a reflector and its store). It lists in pages, then
 * watches from the list's resourceVersion with bookmarks, resumes from the last resourceVersion
 * it saw after a watch ends or breaks, relists only on 410 Gone, backs off with jitter on errors
 * (one retry loop per informer, so there is never more than one request in flight), and restarts
 * a watch that has gone silent. resourceVersions are compared for equality only.
 */
export class Informer<T extends KubeObject> {
  readonly stats: InformerStats = { lists: 0, watches: 0, relistsOnGone: 0, watchdogRestarts: 0, errors: 0 };
  private readonly o: Required<
    Omit<InformerOptions, "namespace" | "labelSelector" | "fieldSelector" | "transform">
  > &
    Pick<InformerOptions, "namespace" | "labelSelector" | "fieldSelector" | "transform">;
  private readonly store = new Map<string, T>();
  private readonly handlers = new Set<(e: InformerEvent<T>) => void>();
  private resourceVersion: string | undefined;
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private running: Promise<void> | undefined;

  constructor(options: InformerOptions) {
    this.o = {
      clock: systemClock,
      log: silentLogger,
      pageSize: 500,
      listPageTimeoutMs: 60_000,
      watchTimeoutSeconds: 300,
      watchdogMs: 0,
      maxBackoffMs: 30_000,
      random: Math.random,
      ...options,
    };
    if (!this.o.watchdogMs) this.o.watchdogMs = (2 * this.o.watchTimeoutSeconds + 30) * 1000;
  }

  get resource(): Resource {
    return this.o.resource;
  }

  /** Subscribes to changes; returns the unsubscribe function. Events for the initial list arrive as "added". */
  on(handler: (e: InformerEvent<T>) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** The resourceVersion of the newest state this cache reflects. */
  lastResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Runs until the signal aborts; the returned promise settles when the loop has stopped. */
  start(signal: AbortSignal): Promise<void> {
    this.running ??= this.run(signal);
    return this.running;
  }

  private async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.relist(signal);
          needList = false;
        }
        await this.watchOnce(signal);
        failures = 0;
      } catch (e) {
        if (signal.aborted) break;
        if (isGone(e)) {
          this.stats.relistsOnGone++;
          this.o.log.info("watch too old, relisting", { resource: this.o.resource.plural });
          needList = true;
          continue;
        }
        if (e instanceof WatchdogFired) {
          this.stats.watchdogRestarts++;
          this.o.log.warn("watch went silent, restarting it", { resource: this.o.resource.plural });
          continue;
        }
        this.stats.errors++;
        failures++;
        const delay = this.backoff(failures);
        this.o.log.warn("list/watch failed, retrying", {
          resource: this.o.resource.plural,
          error: errorMessage(e),
          retryInMs: Math.round(delay),
        });
        try {
          await this.o.clock.sleep(delay, signal);
        } catch {
          break;
        }
      }
    }
  }

  private backoff(failures: number): number {
    const base = Math.min(this.o.maxBackoffMs, 200 * 2 ** Math.min(failures - 1, 20));
    return base / 2 + (this.o.random() * base) / 2;
  }

  private async relist(signal: AbortSignal): Promise<void> {
    this.stats.lists++;
    const items: T[] = [];
    let token: string | undefined;
    let resourceVersion: string | undefined;
    do {
      if (signal.aborted) return;
      const page = await this.o.client.list<T>(this.o.resource, {
        namespace: this.o.namespace,
        labelSelector: this.o.labelSelector,
        fieldSelector: this.o.fieldSelector,
        limit: this.o.pageSize,
        continue: token,
        signal,
        timeoutMs: this.o.listPageTimeoutMs,
      });
      for (const item of page.items) {
        const kept = this.keep(item);
        if (kept) items.push(kept);
      }
      token = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (token);
    this.replace(items);
    this.resourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters.splice(0)) resolve();
    }
  }

  /** Makes the store equal to a fresh list, emitting the differences as events. */
  private replace(items: T[]): void {
    const fresh = new Map(items.map((item) => [objectKey(item), item]));
    for (const [key, old] of this.store) {
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.emit({ type: "deleted", object: old });
      }
    }
    for (const [key, object] of fresh) this.apply(key, object);
  }

  private apply(key: string, object: T): void {
    const old = this.store.get(key);
    this.store.set(key, object);
    if (!old) this.emit({ type: "added", object });
    else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion)
      this.emit({ type: "updated", object, old });
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    // Aborted while the list was in flight: an abort listener added now would never fire, and the
    // watch would hold shutdown for its whole timeout.
    if (signal.aborted) return;
    this.stats.watches++;
    const inner = new AbortController();
    const abortInner = () => inner.abort(signal.reason);
    signal.addEventListener("abort", abortInner, { once: true });
    let fired = false;
    let cancelWatchdog = () => {};
    const arm = () => {
      cancelWatchdog();
      cancelWatchdog = this.o.clock.schedule(this.o.watchdogMs, () => {
        fired = true;
        inner.abort(new WatchdogFired("watchdog"));
      });
    };
    arm();
    const timeout = Math.floor(this.o.watchTimeoutSeconds * (1 + this.o.random()));
    try {
      await this.o.client.watch<T>(
        this.o.resource,
        {
          namespace: this.o.namespace,
          labelSelector: this.o.labelSelector,
          fieldSelector: this.o.fieldSelector,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: timeout,
        },
        (event) => this.handle(event),
        inner.signal,
        arm,
      );
    } catch (e) {
      if (fired) throw new WatchdogFired("watchdog");
      throw e;
    } finally {
      cancelWatchdog();
      signal.removeEventListener("abort", abortInner);
    }
    if (fired) throw new WatchdogFired("watchdog");
  }

  private handle(event: WatchEvent<T>): void {
    if (event.type === "ERROR") {
      const status = event.object as unknown as { code?: number; reason?: string; message?: string };
      throw new KubeApiError({
        statusCode: status.code ?? 500,
        reason: (status.reason as KubeApiError["reason"]) ?? "Unknown",
        message: status.message ?? "watch error",
        method: "WATCH",
        path: this.o.resource.plural,
      });
    }
    const rv = event.object.metadata?.resourceVersion;
    if (event.type !== "BOOKMARK") {
      const key = objectKey(event.object);
      const kept = this.keep(event.object);
      const old = this.store.get(key);
      if (event.type === "DELETED") {
        if (old || kept) {
          this.store.delete(key);
          this.emit({
            type: "deleted",
            object: old && old.metadata?.resourceVersion === rv ? old : (kept ?? old!),
          });
        }
      } else if (kept) {
        this.apply(key, kept);
      } else if (old) {
        // It no longer passes the transform: gone from this cache's point of view.
        this.store.delete(key);
        this.emit({ type: "deleted", object: old });
      }
    }
    if (rv) this.resourceVersion = rv;
  }

  private keep(object: T): T | undefined {
    return this.o.transform ? (this.o.transform.apply(object) as T | undefined) : object;
  }

  private emit(event: InformerEvent<T>): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (e) {
        this.o.log.error("informer event handler threw", {
          resource: this.o.resource.plural,
          error: errorMessage(e),
        });
      }
    }
  }
}
