// Runs in a worker thread started by worker.ts: solves the models posted to it with its own
// GLPK or HiGHS instance, so the main thread's event loop stays free during a long solve.
import { parentPort } from "node:worker_threads";
import { glpkSolver } from "./glpk.ts";
import type { MilpSolver } from "./types.ts";
import type { SolveRequest, SolveReply } from "./worker.ts";

// HiGHS is a devDependency (the benchmark's comparison): load it only when asked for.
const solverFor = async (backend: SolveRequest["backend"]): Promise<MilpSolver> =>
  backend === "highs" ? (await import("./highs.ts")).highsSolver : glpkSolver;

const port = parentPort;
if (!port) throw new Error("worker-main.ts must run in a worker thread");

port.on("message", async (request: SolveRequest) => {
  let reply: SolveReply;
  try {
    const solver = await solverFor(request.backend);
    reply = { id: request.id, result: await solver.solve(request.model, request.options) };
  } catch (e) {
    reply = { id: request.id, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
