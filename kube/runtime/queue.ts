import { systemClock, type Clock } from "../../lib/clock.ts";

export interface RateLimit {
  /** Delay of the first retry of a key; each further failure doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRateLimit: RateLimit = { baseDelayMs: 5, maxDelayMs: 300_000 };

/** What the queue reports, so metrics can be attached without the queue knowing prom-client. */
export interface QueueObserver {
  added?(key: string): void;
  depth?(depth: number): void;
  /** Time from add to a worker taking the key. */
  waited?(ms: number): void;
  retried?(key: string): void;
}

/**
 * A work queue of object keys with client-go's guarantees: a key is queued at most once however
 * often it is added (dirty set), is never processed by two workers at once (a key added while
 * in flight is queued again when done() is called), and failed keys come back after a per-key
 * exponential backoff until forget() is called.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly addedAt = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  /** Delayed adds: the earliest due time per key wins. */
  private readonly delayed = new Map<string, { due: number; cancel: () => void }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly rateLimit: RateLimit;
  private readonly observer: QueueObserver;

  constructor(options: { clock?: Clock; rateLimit?: RateLimit; observer?: QueueObserver } = {}) {
    this.clock = options.clock ?? systemClock;
    this.rateLimit = options.rateLimit ?? defaultRateLimit;
    this.observer = options.observer ?? {};
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    this.observer.added?.(key);
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) this.hand(key, waiter);
    else {
      this.queue.push(key);
      this.observer.depth?.(this.queue.length);
    }
  }

  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.due <= due) return;
    pending?.cancel();
    const cancel = this.clock.schedule(delayMs, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { due, cancel });
  }

  /** Adds the key after its backoff, which grows with each call until forget(key). */
  addRateLimited(key: string): void {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    this.observer.retried?.(key);
    this.addAfter(key, this.backoffFor(n));
  }

  backoffFor(failures: number): number {
    return Math.min(this.rateLimit.maxDelayMs, this.rateLimit.baseDelayMs * 2 ** Math.min(failures - 1, 40));
  }

  /** Clears the key's failure count: the next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.observer.depth?.(this.queue.length);
      return Promise.resolve(this.take(key));
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      const waiter = this.waiters.shift();
      if (waiter) this.hand(key, waiter);
      else {
        this.queue.push(key);
        this.observer.depth?.(this.queue.length);
      }
    }
  }

  get length(): number {
    return this.queue.length;
  }

  /** Stops handing out keys; waiting get() calls resolve with undefined. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (added !== undefined) this.observer.waited?.(this.clock.now() - added);
    return key;
  }

  private hand(key: string, waiter: (key: string) => void): void {
    waiter(this.take(key));
  }
}
