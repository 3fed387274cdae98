import { describe, expect, it } from "vitest";
import { FakeClock, systemClock } from "../../lib/clock.ts";
import { generateProblem } from "../bench/generate.ts";
import { toCatalogEntries } from "../catalog/index.ts";
import { aggregate } from "../packing/classes.ts";
import { buildModel } from "../packing/model.ts";
import { tinyProblem } from "../packing/testing/random-problem.ts";
import { solveByBlocks } from "./decompose.ts";
import { glpkSolver } from "./glpk.ts";
import { highsSolver } from "./highs.ts";
import type { MilpModel } from "./types.ts";

// min 3x + 4y  s.t.  x + y ≥ 3.5,  x ≤ 2,  x, y ≥ 0 integer  → x = 2, y = 2, cost 14.
const small: MilpModel = {
  columns: [
    { name: "x", cost: 3, lb: 0, ub: 2, integer: true },
    { name: "y", cost: 4, lb: 0, ub: Infinity, integer: true },
  ],
  rows: [{ name: "cover", lb: 3.5, ub: Infinity, cols: [0, 1], coefs: [1, 1] }],
};

describe.each([glpkSolver, highsSolver])("$name", (solver) => {
  it("solves a MILP to optimality with its bound", async () => {
    const r = await solver.solve(small);
    expect(r.status).toBe("optimal");
    expect(r.values).toEqual([2, 2]);
    expect(r.objective).toBeCloseTo(14, 9);
    expect(r.bound).toBeCloseTo(14, 6);
  });

  it("solves the LP relaxation with duals", async () => {
    const r = await solver.solve(small, { relax: true });
    expect(r.objective).toBeCloseTo(2 * 3 + 1.5 * 4, 9);
    // One more unit of cover costs a y: the dual is 4 (≥ row of a minimisation).
    expect(r.duals![0]).toBeCloseTo(4, 9);
  });

  it("reports infeasibility", async () => {
    const r = await solver.solve({
      ...small,
      rows: [...small.rows, { name: "cap", lb: -Infinity, ub: 1, cols: [1], coefs: [1] }],
    });
    expect(r.status).toBe("infeasible");
  });

  it("handles a model without columns", async () => {
    expect((await solver.solve({ columns: [], rows: [] })).status).toBe("optimal");
  });
});

describe("GLPK and HiGHS on packing models", () => {
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))("agree on the optimum of problem %i", async (seed) => {
    const pm = buildModel(aggregate(tinyProblem(seed)), { kind: "cost", maxUnplaced: 100 });
    const [g, h] = [await glpkSolver.solve(pm.model), await highsSolver.solve(pm.model)];
    expect(g.status).toBe(h.status);
    if (g.status === "optimal") expect(g.objective).toBeCloseTo(h.objective, 6);
  });
});

describe("solveByBlocks", () => {
  it("finds the same optimum as the whole model, with a valid bound", async () => {
    const { problem } = generateProblem(30, tinyProblem(1).catalog, 3);
    const pm = buildModel(aggregate(problem), { kind: "cost", maxUnplaced: 1000 });
    const whole = await highsSolver.solve(pm.model);
    expect(whole.status).toBe("optimal");
    const blocks = await solveByBlocks(pm.model, pm.blockOf, glpkSolver, {
      clock: systemClock,
      deadline: systemClock.now() + 20_000,
      mipGap: 0,
    });
    expect(blocks).toBeDefined();
    expect(blocks!.bound!).toBeLessThanOrEqual(whole.objective + 1e-6);
    expect(blocks!.lpBound).toBeLessThanOrEqual(blocks!.bound! + 1e-6);
    expect(blocks!.objective).toBeGreaterThanOrEqual(whole.objective - 1e-6);
  });
});

describe("solveByBlocks on a fleet whose LP bound is weak", () => {
  // A hundred workspaces in eleven label groups buy a few nodes each, so rounding them up
  // costs about 5% over the LP; only the blocks' own integrality (the Lagrangian dual) closes it.
  const fleet = () => {
    const { problem } = generateProblem(100, toCatalogEntries(), 1);
    return buildModel(aggregate(problem), { kind: "cost", maxUnplaced: 0 });
  };

  it("proves the optimum that HiGHS proves on the whole model", async () => {
    const pm = fleet();
    const whole = await highsSolver.solve(pm.model, { timeLimitMs: 30_000 });
    expect(whole.status).toBe("optimal");
    const blocks = await solveByBlocks(pm.model, pm.blockOf, glpkSolver, {
      clock: systemClock,
      deadline: systemClock.now() + 30_000,
      mipGap: 0,
    });
    expect(blocks!.status).toBe("optimal");
    expect(blocks!.objective).toBeCloseTo(whole.objective, 6);
    expect(blocks!.bound!).toBeLessThanOrEqual(whole.objective + 1e-6);
    expect(blocks!.bound!).toBeGreaterThan(blocks!.lpBound + 0.04 * blocks!.lpBound);
  }, 60_000);

  it("returns on its own when the clock never moves", async () => {
    const pm = fleet();
    const clock = new FakeClock();
    const blocks = await solveByBlocks(pm.model, pm.blockOf, glpkSolver, {
      clock,
      deadline: clock.now() + 1000,
      mipGap: 0,
    });
    expect(blocks).toBeDefined();
    expect(blocks!.bound!).toBeLessThanOrEqual(blocks!.objective + 1e-9);
  }, 60_000);
});
