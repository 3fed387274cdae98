/**
 * What this controller has just created or deleted and its informer has not shown yet, per set.
 * A pass acts only on a cache that shows its own last writes: one that does not (the create or
 * delete event is still on its way) would count a replica that is going as serving and remove a
 * second one, or miss a replacement. KAITO's controller keeps the same ledger
 * (utils.ControllerExpectations). An expectation lapses after `ttlMs` on the injected clock, so a
 * lost event delays a set, never stalls it.
 */
import type { Clock } from "../../lib/clock.ts";
import type { Replica } from "./replicas.ts";

interface Pending {
  /** Names of replicas created, to appear in the cache. */
  creates: Set<string>;
  /** Uids of replicas deleted, to show a deletionTimestamp or vanish from the cache. */
  deletes: Set<string>;
  since: number;
}

export class Expectations {
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly pending = new Map<string, Pending>();

  constructor(clock: Clock, ttlMs = 30_000) {
    this.clock = clock;
    this.ttlMs = ttlMs;
  }

  private entry(key: string): Pending {
    let p = this.pending.get(key);
    if (!p) {
      p = { creates: new Set(), deletes: new Set(), since: this.clock.now() };
      this.pending.set(key, p);
    }
    return p;
  }

  created(key: string, name: string): void {
    this.entry(key).creates.add(name);
  }

  /** A create that did not happen (refused, or the name was taken): nothing to wait for. */
  notCreated(key: string, name: string): void {
    this.pending.get(key)?.creates.delete(name);
  }

  deleted(key: string, uid: string): void {
    this.entry(key).deletes.add(uid);
  }

  /** True when the cache shows every write made for the set (or they have lapsed); clears them. */
  satisfied(key: string, replicas: readonly Replica[]): boolean {
    const p = this.pending.get(key);
    if (!p) return true;
    const names = new Set(replicas.map((r) => r.metadata?.name));
    for (const n of [...p.creates]) if (names.has(n)) p.creates.delete(n);
    const live = new Map(replicas.map((r) => [r.metadata?.uid, r]));
    for (const uid of [...p.deletes]) {
      const r = live.get(uid);
      if (!r || r.metadata?.deletionTimestamp) p.deletes.delete(uid);
    }
    if ((p.creates.size === 0 && p.deletes.size === 0) || this.clock.now() - p.since >= this.ttlMs) {
      this.pending.delete(key);
      return true;
    }
    return false;
  }

  /** Milliseconds until the set's expectations lapse: when to look again if no event comes. */
  remainingMs(key: string): number {
    const p = this.pending.get(key);
    return p ? Math.max(0, p.since + this.ttlMs - this.clock.now()) : 0;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }
}
