import type { Clock } from "./clock.ts";

export interface TtlCacheOptions {
  clock: Clock;
  /** Entries kept at most; the least recently used goes first. */
  maxEntries: number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/**
 * A bounded map whose entries expire on the injected clock, with one load in flight per key:
 * callers asking for a key that is being loaded share that load (so a burst of reconciles makes
 * one request). What a load returns is kept for the time-to-live it names, so a caller can keep
 * successes longer than refusals; a load that throws is not kept.
 */
export class TtlCache<K, V> {
  private readonly clock: Clock;
  private readonly maxEntries: number;
  private readonly entries = new Map<K, Entry<V>>();
  private readonly loading = new Map<K, Promise<V>>();

  constructor(o: TtlCacheOptions) {
    if (!Number.isSafeInteger(o.maxEntries) || o.maxEntries < 1)
      throw new Error(`maxEntries must be a positive integer, got ${o.maxEntries}`);
    this.clock = o.clock;
    this.maxEntries = o.maxEntries;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live value for `key`, or undefined; a hit becomes the most recently used. */
  peek(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The cached value, or the result of `load`, kept for the milliseconds `ttl` gives for it. */
  async get(key: K, load: () => Promise<V>, ttl: (value: V) => number): Promise<V> {
    const hit = this.peek(key);
    if (hit !== undefined) return hit;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const promise = load().then(
      (value) => {
        this.loading.delete(key);
        this.set(key, value, ttl(value));
        return value;
      },
      (e: unknown) => {
        this.loading.delete(key);
        throw e;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  set(key: K, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (ttlMs <= 0) return;
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as K);
  }
}
