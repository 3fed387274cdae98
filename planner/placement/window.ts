import type { Clock } from "../../lib/clock.ts";

export interface WindowOptions {
  clock: Clock;
  /** A window closes this long after its last arrival (default 1 s). */
  idleMs?: number;
  /** ... and at the latest this long after its first (default 10 s). */
  maxMs?: number;
}

/**
 * Collects what arrives together, per key, so it can be planned together: workloads with the same
 * labels may share new nodes only if they are planned as one problem. As Karpenter batches
 * pending pods, a window opens with its first item and closes once nothing has joined for
 * `idleMs`, or `maxMs` after it opened, whichever comes first; a steady trickle cannot hold it
 * open for ever. Karpenter's defaults are ours: 1 s idle, 10 s at most (BATCH_IDLE_DURATION and
 * BATCH_MAX_DURATION, kubernetes-sigs/karpenter pkg/operator/options/options.go). Items are
 * keyed by id: adding one again replaces it in its open window without moving its close.
 *
 * Time is the injected clock's, so the controller runs on the system clock, the simulator on
 * simulated time, and tests step a FakeClock.
 */
export class BatchWindows<T> {
  private readonly clock: Clock;
  private readonly idleMs: number;
  private readonly maxMs: number;
  private readonly onClose: (key: string, items: T[]) => void | Promise<void>;
  private readonly open = new Map<string, OpenWindow<T>>();

  /**
   * `onClose` may return a promise: a clock that waits for its timers' work (the simulator's)
   * then finishes the batch before the next event.
   */
  constructor(options: WindowOptions, onClose: (key: string, items: T[]) => void | Promise<void>) {
    this.clock = options.clock;
    this.idleMs = options.idleMs ?? 1_000;
    this.maxMs = options.maxMs ?? 10_000;
    this.onClose = onClose;
  }

  /** Adds `item` to the open window of `key` (opening one); returns when that window closes. */
  add(key: string, id: string, item: T): number {
    const now = this.clock.now();
    let w = this.open.get(key);
    if (!w) {
      w = { opened: now, items: new Map(), closesAt: now, cancel: () => {} };
      this.open.set(key, w);
    }
    // An item already waiting is refreshed, not a new arrival: a workload requeued for another
    // reason while it waits must not hold its window open.
    const again = w.items.has(id);
    w.items.set(id, item);
    if (again) return w.closesAt;
    w.cancel();
    w.closesAt = Math.min(now + this.idleMs, w.opened + this.maxMs);
    const window = w;
    w.cancel = this.clock.schedule(w.closesAt - now, () => this.close(key, window));
    return w.closesAt;
  }

  /** When the window holding `id` under `key` closes, or undefined when none holds it. */
  closesAt(key: string, id: string): number | undefined {
    const w = this.open.get(key);
    return w?.items.has(id) ? w.closesAt : undefined;
  }

  /** Drops `id` from its open window (a workload deleted while it waited). */
  remove(key: string, id: string): void {
    const w = this.open.get(key);
    if (!w) return;
    w.items.delete(id);
    if (w.items.size === 0) {
      w.cancel();
      this.open.delete(key);
    }
  }

  /** Number of windows open. */
  pending(): number {
    return this.open.size;
  }

  private close(key: string, w: OpenWindow<T>): void | Promise<void> {
    if (this.open.get(key) !== w) return;
    this.open.delete(key);
    return this.onClose(key, [...w.items.values()]);
  }
}

interface OpenWindow<T> {
  opened: number;
  items: Map<string, T>;
  closesAt: number;
  cancel: () => void;
}
