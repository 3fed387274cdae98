import { describe, expect, it } from "vitest";
import { planDedicated, planFfd } from "./baselines.ts";
import { solve } from "./solve.ts";
import { bruteForce } from "./testing/brute-force.ts";
import { tinyProblem } from "./testing/random-problem.ts";
import { checkPlan } from "./verify.ts";
import type { Plan, Problem } from "./types.ts";

const placed = (problem: Problem, plan: Plan) =>
  problem.demands.reduce((s, d) => s + d.replicas, 0) - plan.unplaced.length;

describe("the MILP against brute-force enumeration", () => {
  // Seeded: the same 120 problems on every run.
  const seeds = Array.from({ length: 120 }, (_, i) => i + 1);

  it.each(seeds)("finds the true optimum of random problem %i", async (seed) => {
    const problem = tinyProblem(seed);
    const truth = bruteForce(problem);
    const plan = await solve(problem);
    expect(checkPlan(problem, plan)).toEqual([]);
    expect(placed(problem, plan)).toBe(truth.placed);
    expect(plan.costPerHour).toBeCloseTo(truth.cost, 6);
    expect(plan.status).toBe("optimal");
    expect(plan.lowerBound).toBeCloseTo(plan.costPerHour, 6);
    expect(plan.gap).toBeLessThan(1e-9);
  });
});

describe("baselines against the optimum", () => {
  const seeds = Array.from({ length: 60 }, (_, i) => 1000 + i);

  it.each(seeds)("keep every rule and never beat the optimum, problem %i", async (seed) => {
    const problem = tinyProblem(seed);
    const optimum = await solve(problem);
    for (const plan of [planDedicated(problem), planFfd(problem)]) {
      expect(checkPlan(problem, plan)).toEqual([]);
      expect(placed(problem, plan)).toBeLessThanOrEqual(placed(problem, optimum));
      if (placed(problem, plan) === placed(problem, optimum)) {
        expect(plan.costPerHour).toBeGreaterThanOrEqual(optimum.costPerHour - 1e-9);
      }
    }
  });

  it.each(seeds)("dedicated ≥ ffd ≥ milp without existing nodes or quotas, problem %i", async (seed) => {
    // Then FFD launches the same cheapest fitting node as dedicated, but only for some replicas.
    const problem = tinyProblem(seed, { existing: false, quotas: false });
    const milp = await solve(problem);
    const ffd = planFfd(problem);
    const dedicated = planDedicated(problem);
    expect(ffd.unplaced.length).toBe(milp.unplaced.length);
    expect(dedicated.costPerHour).toBeGreaterThanOrEqual(ffd.costPerHour - 1e-9);
    expect(ffd.costPerHour).toBeGreaterThanOrEqual(milp.costPerHour - 1e-9);
  });
});
