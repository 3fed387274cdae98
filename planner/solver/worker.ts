import { Worker } from "node:worker_threads";
import type { MilpModel, MilpOptions, MilpResult, MilpSolver } from "./types.ts";

export type Backend = "glpk" | "highs";

export interface SolveRequest {
  id: number;
  backend: Backend;
  model: MilpModel;
  options?: MilpOptions;
}

export type SolveReply = { id: number; result: MilpResult } | { id: number; error: string };

export interface WorkerSolver extends MilpSolver {
  /** Stops the worker; pending solves reject. A later solve starts a new worker. */
  close(): Promise<void>;
}

/**
 * A MilpSolver whose solves run in one worker thread, one at a time, so a process that also
 * serves requests (the manager, the gRPC planner) keeps answering during a long solve. The
 * worker starts on the first solve and does not keep the process alive while idle.
 */
export function workerSolver(backend: Backend = "glpk"): WorkerSolver {
  let worker: Worker | undefined;
  let next = 0;
  const pending = new Map<number, { resolve: (r: MilpResult) => void; reject: (e: Error) => void }>();

  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };

  const start = (): Worker => {
    const w = new Worker(new URL("./worker-main.ts", import.meta.url));
    w.on("message", (reply: SolveReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (pending.size === 0) w.unref();
      if ("error" in reply) p.reject(new Error(`${backend} worker: ${reply.error}`));
      else p.resolve(reply.result);
    });
    w.on("error", (e) => {
      worker = undefined;
      failAll(e);
    });
    w.on("exit", (code) => {
      if (worker === w) worker = undefined;
      failAll(new Error(`${backend} worker exited with code ${code}`));
    });
    return w;
  };

  return {
    name: `${backend}-worker`,
    solve(model, options) {
      worker ??= start();
      const w = worker;
      const id = next++;
      w.ref();
      return new Promise<MilpResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.postMessage({ id, backend, model, options } satisfies SolveRequest);
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      failAll(new Error(`${backend} worker closed`));
      if (w) await w.terminate();
    },
  };
}
