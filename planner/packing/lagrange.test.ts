import { describe, expect, it } from "vitest";
import { FakeClock, type Clock } from "../../lib/clock.ts";
import { generateFleet } from "../bench/fleet.ts";
import { toCatalogEntries } from "../catalog/index.ts";
import { glpkSolver } from "../solver/glpk.ts";
import type { MilpSolver } from "../solver/types.ts";
import { BlockDp } from "./block-dp.ts";
import { splitIntoBlocks } from "./blocks.ts";
import { aggregate } from "./classes.ts";
import { solveByLabelGroups } from "./lagrange.ts";
import { singleDemandPlan } from "./single-class.ts";
import { finish, solve } from "./solve.ts";
import { bruteForce } from "./testing/brute-force.ts";
import { tinyProblem } from "./testing/random-problem.ts";
import type { Problem } from "./types.ts";
import { checkPlan } from "./verify.ts";

const replicas = (p: Problem) => p.demands.reduce((s, d) => s + d.replicas, 0);
const atListPrice = (s: { pricePerHour: number }) => s.pricePerHour;

describe("solveByLabelGroups against brute-force enumeration", () => {
  const seeds = Array.from({ length: 80 }, (_, i) => 5000 + i);

  it.each(seeds)("plans validly, places the most, and bounds the optimum, problem %i", async (seed) => {
    const problem = tinyProblem(seed);
    const truth = bruteForce(problem);
    const agg = aggregate(problem);
    const r = await solveByLabelGroups(agg, {
      solver: glpkSolver,
      clock: new FakeClock(),
      deadline: Infinity,
      mipGap: 0,
    });
    if (!r) return; // groups that do not split go to the whole model, tested elsewhere
    const plan = finish(r.plan, Math.max(0, r.bound), "timeLimit", 0);
    expect(checkPlan(problem, plan)).toEqual([]);
    expect(replicas(problem) - plan.unplaced.length).toBe(truth.placed);
    expect(plan.costPerHour).toBeGreaterThanOrEqual(truth.cost - 1e-6);
    // Proving that no plan places more takes the whole model where the prices cannot.
    if (truth.placed === replicas(problem)) expect(r.provenPlacement).toBe(true);
    expect(r.bound).toBeLessThanOrEqual(truth.cost + 1e-6);
  });
});

describe("the exact block plans against brute-force enumeration", () => {
  const seeds = Array.from({ length: 80 }, (_, i) => 7000 + i);

  it.each(seeds)("single demand and block DP find the cheapest plan of problem %i", (seed) => {
    const problem = tinyProblem(seed, { quotas: false });
    for (const type of splitIntoBlocks(aggregate(problem))) {
      const block = type.problem;
      const truth = bruteForce({ ...block, quota: {} });
      if (truth.placed < replicas(block)) continue;
      if (type.singleDemand) {
        const r = singleDemandPlan(block, atListPrice, undefined);
        expect(r.value).toBeCloseTo(truth.cost, 6);
        expect(checkPlan(block, finish(r.plan(), 0, "baseline", 0))).toEqual([]);
      }
      const dp = new BlockDp(block, type.shapes).solve(atListPrice, () => undefined);
      if (!dp) continue; // a SKU whose GPUs are not a power of two: the solver's case
      expect(dp.exact).toBe(true);
      expect(dp.value).toBeCloseTo(truth.cost, 6);
      const plan = finish(dp.plan(), 0, "baseline", 0);
      expect(checkPlan(block, plan)).toEqual([]);
      expect(plan.costPerHour).toBeCloseTo(truth.cost, 6);
    }
  });
});

describe("blocks", () => {
  it("put identical single-workspace groups in one type, solved once", () => {
    const catalog = toCatalogEntries();
    const demand = (name: string, labels: Record<string, string>) => ({
      name,
      replicas: 1,
      totalGpuMemoryGiB: 12,
      minGpuMemoryGiB: 0,
      labels,
      maxNodesPerReplica: 1,
    });
    const problem: Problem = {
      catalog,
      quota: {},
      nodes: [],
      demands: [demand("a", { apps: "a" }), demand("b", { apps: "b" }), demand("c", { team: "x" })],
    };
    const types = splitIntoBlocks(aggregate(problem));
    expect(types).toHaveLength(1);
    expect(types[0]!.blocks).toHaveLength(3);
    expect(types[0]!.singleDemand).toBe(true);
  });

  it("join groups that an existing node serves together", () => {
    const catalog = toCatalogEntries();
    const demand = (name: string, labels: Record<string, string>, gib: number) => ({
      name,
      replicas: 1,
      totalGpuMemoryGiB: gib,
      minGpuMemoryGiB: 0,
      labels,
      maxNodesPerReplica: 1,
    });
    const problem: Problem = {
      catalog,
      quota: {},
      nodes: [{ name: "byo", sku: "Standard_NC64as_T4_v3", labels: { team: "x", apps: "a" }, freeGpus: 2 }],
      demands: [
        demand("a", { apps: "a" }, 12),
        demand("x", { team: "x" }, 20),
        demand("z", { apps: "z" }, 12),
      ],
    };
    const types = splitIntoBlocks(aggregate(problem));
    const sizes = types.map((t) => t.problem.demands.length).sort();
    expect(sizes).toEqual([1, 2]);
  });
});

/**
 * Time that moves only as the planner works: every clock read takes a millisecond, and every
 * solver call takes what its time limit allows, up to 20 ms. Whatever the machine's speed, the
 * planner must stop searching once its time limit has passed.
 */
function steppingClock(): { clock: Clock; solver: MilpSolver } {
  const fake = new FakeClock(0);
  const clock: Clock = {
    now: () => {
      fake.step(1);
      return fake.now();
    },
    schedule: (ms, fn) => fake.schedule(ms, fn),
    sleep: (ms, signal) => fake.sleep(ms, signal),
  };
  const solver: MilpSolver = {
    name: "stepping-glpk",
    async solve(model, options) {
      const r = await glpkSolver.solve(model, options);
      fake.step(Math.min(options?.timeLimitMs ?? 20, 20));
      return r;
    },
  };
  return { clock, solver };
}

describe("the time limit", () => {
  const catalog = toCatalogEntries();
  it.each([
    ["a tiny problem", tinyProblem(3), 30],
    ["300 workspaces of their own labels", generateFleet(300, catalog, { ownShare: 0.9 }).problem, 60],
    ["600 workspaces, half in teams", generateFleet(600, catalog, { ownShare: 0.5 }).problem, 150],
    ["a fleet whose groups do not split", tinyProblem(11, { existing: true }), 40],
  ] as const)("returns a valid plan by the deadline for %s", async (_, problem, timeLimitMs) => {
    const { clock, solver } = steppingClock();
    const plan = await solve(problem, { clock, solver, timeLimitMs });
    expect(checkPlan(problem, plan)).toEqual([]);
    // The last search step may start just before the deadline and take one solver call.
    expect(plan.solveMs).toBeLessThanOrEqual(timeLimitMs + 25);
  });
});
