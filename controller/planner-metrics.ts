import { Histogram, type Registry } from "prom-client";
import type { Clock } from "../lib/clock.ts";
import type { CallOptions, Plan, PlannerClient, ProblemInput, Sku } from "../planner/grpc/index.ts";

// The operator wraps its planner once (controller/operator.ts), so gRPC callers and the
// workspace controller are timed alike, whichever components a process runs.

/** A PlannerClient that times every plan() into kaito_planner_solve_duration_seconds. */
export function instrumentPlanner(planner: PlannerClient, registry: Registry, clock: Clock): PlannerClient {
  const solve = new Histogram({
    name: "kaito_planner_solve_duration_seconds",
    help: "Time to answer a planning request, solver included.",
    labelNames: ["outcome"],
    // Large problems may run to the solver's time limit: buckets go past 10 s.
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  // Both outcomes exist from the start, so rate() counts the first solve too.
  solve.zero({ outcome: "ok" });
  solve.zero({ outcome: "error" });
  return {
    async plan(problem: ProblemInput, options?: CallOptions): Promise<Plan> {
      const started = clock.now();
      try {
        const plan = await planner.plan(problem, options);
        solve.observe({ outcome: "ok" }, (clock.now() - started) / 1000);
        return plan;
      } catch (e) {
        solve.observe({ outcome: "error" }, (clock.now() - started) / 1000);
        throw e;
      }
    },
    catalog: (): Promise<Sku[]> => planner.catalog(),
  };
}
