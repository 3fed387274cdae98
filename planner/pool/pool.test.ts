import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { generateFleet } from "../bench/fleet.ts";
import { toCatalogEntries } from "../catalog/index.ts";
import { solve } from "../packing/solve.ts";
import { checkPlan } from "../packing/verify.ts";
import { tinyProblem } from "../packing/testing/random-problem.ts";
import { isSolvePoolError } from "./errors.ts";
import { SolvePool } from "./pool.ts";

const pools: SolvePool[] = [];
const pool = (options?: ConstructorParameters<typeof SolvePool>[0]) => {
  const p = new SolvePool(options);
  pools.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const codeOf = async (work: Promise<unknown>) => {
  try {
    await work;
    return "resolved";
  } catch (e) {
    return isSolvePoolError(e) ? e.code : `not a SolvePoolError: ${String(e)}`;
  }
};

// A fleet that keeps a worker busy for a while on any machine.
const large = () => generateFleet(3000, toCatalogEntries(), { ownShare: 0.6 }).problem;

describe("SolvePool", () => {
  it("solves in a worker thread what solve() finds in this one", async () => {
    const problem = tinyProblem(21);
    const [there, here] = await Promise.all([pool().solve(problem), solve(problem)]);
    expect(checkPlan(problem, there)).toEqual([]);
    expect(there.costPerHour).toBeCloseTo(here.costPerHour, 9);
    expect(there.placements).toEqual(here.placements);
  });

  it("ends a cancelled solve at once and solves the next on a fresh worker", async () => {
    const p = pool({ size: 1 });
    const aborter = new AbortController();
    const running = codeOf(p.solve(large(), { timeLimitMs: 30_000, signal: aborter.signal }));
    const queued = codeOf(p.solve(tinyProblem(4), { signal: aborter.signal }));
    aborter.abort();
    expect(await running).toBe("Cancelled");
    expect(await queued).toBe("Cancelled");
    const problem = tinyProblem(5);
    expect(checkPlan(problem, await p.solve(problem))).toEqual([]);
  });

  it("fails a solve that overruns its time limit and grace with DeadlineExceeded", async () => {
    const clock = new FakeClock();
    const p = pool({ size: 1, clock, graceMs: 500 });
    const overdue = codeOf(p.solve(large(), { timeLimitMs: 30_000 }));
    // The pool's clock, not the worker's, decides when the net closes.
    clock.step(30_499);
    clock.step(1);
    expect(await overdue).toBe("DeadlineExceeded");
    const problem = tinyProblem(6);
    expect(checkPlan(problem, await p.solve(problem))).toEqual([]);
  });

  it("queues solves beyond its workers and answers each", async () => {
    const p = pool({ size: 2 });
    const problems = [1, 2, 3, 4, 5].map((s) => tinyProblem(30 + s));
    const plans = await Promise.all(problems.map((q) => p.solve(q)));
    plans.forEach((plan, i) => expect(checkPlan(problems[i]!, plan)).toEqual([]));
  });

  it("refuses work once closed", async () => {
    const p = pool();
    await p.close();
    expect(await codeOf(p.solve(tinyProblem(1)))).toBe("Closed");
  });
});
