import { toCatalogEntries, loadCatalog } from "../catalog/catalog.ts";
import type { Catalog } from "../catalog/types.ts";
import { isUserError } from "../../lib/errors.ts";
import { solve as packingSolve } from "../packing/solve.ts";
import type { Plan, Problem } from "../packing/types.ts";
import { isPlannerError, PlannerError } from "./errors.ts";
import { isSolvePoolError, type SolvePoolErrorCode } from "../pool/errors.ts";
import type { PlannerErrorCode } from "./errors.ts";
import type { CallOptions, PlannerClient, ProblemInput, Sku } from "./types.ts";
import { checkProblem } from "./validate.ts";

/** Solves a validated problem; planner/packing's solve() in this thread by default. */
export type SolveFn = (problem: Problem, options: SolveCallOptions) => Promise<Plan>;

export interface SolveCallOptions {
  /** Aborted when the caller goes away: a solver that can stop, stops. */
  signal?: AbortSignal;
  /** The solve's time limit (default: the solver's own, 10 s). */
  timeLimitMs?: number;
}

export interface InProcessPlannerOptions {
  solve?: SolveFn;
  /** The catalogue to offer and to plan with when a problem brings none (default: embedded). */
  catalog?: () => Catalog;
}

/**
 * The planner in the caller's process: validation, the solver and the catalogue, with the
 * gRPC client's error behaviour. The gRPC server serves one of these.
 */
export class InProcessPlannerClient implements PlannerClient {
  private readonly solveFn: SolveFn;
  private readonly catalogFn: () => Catalog;

  constructor(options: InProcessPlannerOptions = {}) {
    this.solveFn =
      options.solve ??
      ((problem, o) =>
        packingSolve(problem, o.timeLimitMs !== undefined ? { timeLimitMs: o.timeLimitMs } : {}));
    this.catalogFn = options.catalog ?? loadCatalog;
  }

  async plan(input: ProblemInput, options: CallOptions = {}): Promise<Plan> {
    cancelledCheck(options.signal);
    const problem = checkProblem(input, toCatalogEntries(this.catalogFn()));
    let plan: Plan;
    try {
      // A solver that does not watch the signal runs on; the caller stops waiting all the same.
      plan = await untilAborted(
        this.solveFn(problem, {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.timeLimitMs !== undefined ? { timeLimitMs: options.timeLimitMs } : {}),
        }),
        options.signal,
      );
    } catch (e) {
      if (isPlannerError(e)) throw e;
      if (isSolvePoolError(e)) throw new PlannerError(POOL_CODES[e.code], e.message, { cause: e });
      if (isUserError(e)) throw new PlannerError("InvalidArgument", e.message, { cause: e });
      throw new PlannerError(
        "Internal",
        `the planner failed: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    return plan;
  }

  async catalog(options: CallOptions = {}): Promise<Sku[]> {
    cancelledCheck(options.signal);
    return [...this.catalogFn().skus];
  }
}

const POOL_CODES: Record<SolvePoolErrorCode, PlannerErrorCode> = {
  Cancelled: "Cancelled",
  DeadlineExceeded: "DeadlineExceeded",
  Closed: "Unavailable",
  Failed: "Internal",
};

function cancelled(signal: AbortSignal): PlannerError {
  return new PlannerError("Cancelled", "the planner call was cancelled.", { cause: signal.reason });
}

function cancelledCheck(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled(signal);
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled(signal));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
