import { Worker } from "node:worker_threads";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { DEFAULT_TIME_LIMIT_MS } from "../packing/solve.ts";
import type { Plan, Problem } from "../packing/types.ts";
import { SolvePoolError } from "./errors.ts";
import type { SolveAnswer, SolveJob } from "./worker-main.ts";

export interface SolvePoolOptions {
  /** Worker threads, each solving one problem at a time (default 2: a long plan leaves one free). */
  size?: number;
  /** Times the hard deadline. */
  clock?: Clock;
  /**
   * How long past its time limit a solve may run before its worker is ended and the call fails
   * with DeadlineExceeded (default 2 s): the solver returns by its limit, this is the net.
   */
  graceMs?: number;
}

export interface PoolSolveOptions {
  /** The solve's time limit (default 10 s); the best plan found by then comes back. */
  timeLimitMs?: number;
  mipGap?: number;
  /** Aborting ends the solve: a queued one never starts, a running one's worker is ended. */
  signal?: AbortSignal;
}

interface Pending {
  job: SolveJob;
  resolve: (plan: Plan) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
  cancelDeadline?: () => void;
}

interface Slot {
  worker?: Worker;
  busy?: Pending;
}

/**
 * Solves planning problems in worker threads. Plans come back through messages, so however
 * large the problem, the calling thread's event loop only copies it out and the plan in.
 * Workers start on first use, do not keep the process alive while idle, and are replaced when
 * one is ended (a cancelled or overdue solve, a crash): GLPK runs to its own time limit inside
 * WASM and cannot be interrupted any other way.
 */
export class SolvePool {
  private readonly slots: Slot[];
  private readonly queue: Pending[] = [];
  private readonly clock: Clock;
  private readonly graceMs: number;
  private next = 0;
  private closed = false;

  constructor(options: SolvePoolOptions = {}) {
    this.slots = Array.from({ length: Math.max(1, options.size ?? 2) }, () => ({}));
    this.clock = options.clock ?? systemClock;
    this.graceMs = options.graceMs ?? 2_000;
  }

  solve(problem: Problem, options: PoolSolveOptions = {}): Promise<Plan> {
    if (this.closed) return Promise.reject(new SolvePoolError("Closed", "the planner is shutting down."));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(cancelled(signal));
    return new Promise<Plan>((resolve, reject) => {
      const pending: Pending = {
        job: {
          id: this.next++,
          problem,
          timeLimitMs: options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS,
          ...(options.mipGap !== undefined ? { mipGap: options.mipGap } : {}),
        },
        resolve,
        reject,
        signal,
      };
      if (signal) {
        pending.onAbort = () => this.abandon(pending, cancelled(signal));
        signal.addEventListener("abort", pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.dispatch();
    });
  }

  /** Ends every worker; queued and running solves fail with Closed. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new SolvePoolError("Closed", "the planner is shutting down.");
    for (const p of this.queue.splice(0)) this.settle(p, error);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.busy) this.settle(slot.busy, error);
        slot.busy = undefined;
        const w = slot.worker;
        slot.worker = undefined;
        if (w) await w.terminate();
      }),
    );
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      const pending = this.queue.shift()!;
      slot.busy = pending;
      const worker = (slot.worker ??= this.start(slot));
      worker.ref();
      const limit = pending.job.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
      pending.cancelDeadline = this.clock.schedule(limit + this.graceMs, () =>
        this.abandon(
          pending,
          new SolvePoolError(
            "DeadlineExceeded",
            `the plan took more than its ${limit} ms time limit and ${this.graceMs} ms of grace; it was stopped.`,
          ),
        ),
      );
      worker.postMessage(pending.job);
    }
  }

  private start(slot: Slot): Worker {
    const worker = new Worker(new URL("./worker-main.ts", import.meta.url));
    worker.unref();
    worker.on("message", (answer: SolveAnswer) => {
      const pending = slot.busy;
      if (!pending || pending.job.id !== answer.id) return;
      slot.busy = undefined;
      worker.unref();
      if ("error" in answer) this.settle(pending, new SolvePoolError("Failed", answer.error));
      else this.settle(pending, undefined, answer.plan);
      this.dispatch();
    });
    const lost = (why: string) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      const pending = slot.busy;
      slot.busy = undefined;
      if (pending) this.settle(pending, new SolvePoolError("Failed", `the planner's worker ${why}.`));
      this.dispatch();
    };
    worker.on("error", (e) => lost(`failed: ${e.message}`));
    worker.on("exit", (code) => lost(`exited with code ${code}`));
    return worker;
  }

  /** Gives up on a solve: out of the queue, or its worker ended (a fresh one replaces it). */
  private abandon(pending: Pending, error: SolvePoolError): void {
    const queued = this.queue.indexOf(pending);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(pending, error);
      return;
    }
    const slot = this.slots.find((s) => s.busy === pending);
    if (!slot) return;
    const worker = slot.worker;
    slot.worker = undefined;
    slot.busy = undefined;
    this.settle(pending, error);
    void worker?.terminate();
    this.dispatch();
  }

  private settle(pending: Pending, error: Error | undefined, plan?: Plan): void {
    pending.cancelDeadline?.();
    if (pending.onAbort) pending.signal?.removeEventListener("abort", pending.onAbort);
    if (error) pending.reject(error);
    else pending.resolve(plan!);
  }
}

function cancelled(signal: AbortSignal): SolvePoolError {
  return new SolvePoolError("Cancelled", "the plan was cancelled.", { cause: signal.reason });
}
