// Runs in a worker thread started by pool.ts: the whole solve (aggregation, decomposition, the
// solver calls, decoding), so the thread that serves probes, leases, the extender and the
// controllers never waits for a plan.
import { parentPort } from "node:worker_threads";
import { solve } from "../packing/solve.ts";
import type { Plan, Problem } from "../packing/types.ts";

export interface SolveJob {
  id: number;
  problem: Problem;
  timeLimitMs?: number;
  mipGap?: number;
}

export type SolveAnswer = { id: number; plan: Plan } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error("planner/pool/worker-main.ts must run in a worker thread");

port.on("message", async (job: SolveJob) => {
  let answer: SolveAnswer;
  try {
    const plan = await solve(job.problem, {
      ...(job.timeLimitMs !== undefined ? { timeLimitMs: job.timeLimitMs } : {}),
      ...(job.mipGap !== undefined ? { mipGap: job.mipGap } : {}),
    });
    answer = { id: job.id, plan };
  } catch (e) {
    answer = { id: job.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(answer);
});
