import type { Clock } from "../../lib/clock.ts";

/**
 * A bounded map whose entries expire on the injected clock. The oldest entry goes when it is
 * full (insertion order; a hit does not refresh it), so a flood of distinct tokens costs at most
 * `maxEntries` entries of memory, never more.
 */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  private readonly clock: Clock;
  private readonly maxEntries: number;

  constructor(clock: Clock, maxEntries: number) {
    if (!(maxEntries >= 1)) throw new Error("an ExpiringCache holds at least one entry");
    this.clock = clock;
    this.maxEntries = maxEntries;
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    if (ttlMs <= 0) return;
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expires: this.clock.now() + ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
