import { toCatalogEntries, loadCatalog } from "../catalog/catalog.ts";
import type { Catalog } from "../catalog/types.ts";
import { isUserError } from "../../lib/errors.ts";
import { solve as packingSolve } from "../packing/solve.ts";
import type { Plan, Problem } from "../packing/types.ts";
import { isPlannerError, PlannerError } from "./errors.ts";
import type { CallOptions, PlannerClient, ProblemInput, Sku } from "./types.ts";
import { checkProblem } from "./validate.ts";

/** Solves a validated problem; planner/packing's solve() by default. */
export type SolveFn = (problem: Problem) => Promise<Plan>;

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
    this.solveFn = options.solve ?? ((problem) => packingSolve(problem));
    this.catalogFn = options.catalog ?? loadCatalog;
  }

  async plan(input: ProblemInput, options: CallOptions = {}): Promise<Plan> {
    cancelledCheck(options.signal);
    const problem = checkProblem(input, toCatalogEntries(this.catalogFn()));
    let plan: Plan;
    try {
      // The solver does not watch the signal; the caller stops waiting all the same.
      plan = await untilAborted(this.solveFn(problem), options.signal);
    } catch (e) {
      if (isPlannerError(e)) throw e;
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
