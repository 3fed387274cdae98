import type { Clock } from "../lib/clock.ts";

interface Timer {
  due: number;
  seq: number;
  fn: () => void | Promise<void>;
}

/**
 * Simulated time for the discrete-event engine. It implements the project's Clock, so the
 * planner (which takes a Clock for its time limit) runs on simulated time: a solve takes no
 * simulated time, and the result never depends on how fast this machine is. Events run in due
 * order, ties in the order they were scheduled; an event handler may be async, and the next
 * event waits for it.
 */
export class EventClock implements Clock {
  private current: number;
  private seq = 0;
  // A binary heap keyed by (due, seq): thousands of pending events stay cheap.
  private readonly heap: Timer[] = [];
  private readonly cancelled = new Set<number>();

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  schedule(ms: number, fn: () => void | Promise<void>): () => void {
    const timer = { due: this.current + Math.max(0, ms), seq: this.seq++, fn };
    this.push(timer);
    return () => {
      this.cancelled.add(timer.seq);
    };
  }

  /** Schedules at an absolute simulated time (not before now). */
  at(time: number, fn: () => void | Promise<void>): () => void {
    return this.schedule(time - this.current, fn);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const cancel = this.schedule(ms, resolve);
      signal?.addEventListener(
        "abort",
        () => {
          cancel();
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }

  /** Runs every event due up to `end` in order, then leaves the clock at `end`. */
  async runUntil(end: number, onEvent?: (now: number) => void): Promise<void> {
    for (;;) {
      const next = this.heap[0];
      if (!next || next.due > end) break;
      this.pop();
      if (this.cancelled.delete(next.seq)) continue;
      this.current = next.due;
      await next.fn();
      onEvent?.(this.current);
    }
    this.current = Math.max(this.current, end);
  }

  pending(): number {
    return this.heap.length - this.cancelled.size;
  }

  private less(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
