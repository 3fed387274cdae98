import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import type { MilpSolver } from "../solver/types.ts";
import { solve } from "./solve.ts";
import type { Demand, ExistingNode, Plan, Problem, SkuSpec } from "./types.ts";
import { checkPlan } from "./verify.ts";

const T4x4: SkuSpec = {
  name: "T4x4",
  gpus: 4,
  gpuMemoryGiB: 16,
  vcpus: 64,
  family: "t4",
  pricePerHour: 4.352,
};
const T4x1: SkuSpec = {
  name: "T4x1",
  gpus: 1,
  gpuMemoryGiB: 16,
  vcpus: 4,
  family: "t4",
  pricePerHour: 0.526,
};
const A100: SkuSpec = {
  name: "A100",
  gpus: 1,
  gpuMemoryGiB: 80,
  vcpus: 24,
  family: "a100",
  pricePerHour: 3.673,
};
const A100x8: SkuSpec = {
  name: "A100x8",
  gpus: 8,
  gpuMemoryGiB: 80,
  vcpus: 96,
  family: "nd",
  pricePerHour: 32.77,
};
const A10x6: SkuSpec = {
  name: "A10x6",
  gpus: 6,
  gpuMemoryGiB: 24,
  vcpus: 72,
  family: "a10",
  pricePerHour: 12,
};

const demand = (name: string, over: Partial<Demand> = {}): Demand => ({
  name,
  replicas: 1,
  totalGpuMemoryGiB: 20,
  minGpuMemoryGiB: 0,
  labels: {},
  maxNodesPerReplica: 1,
  ...over,
});
const node = (
  name: string,
  sku: string,
  freeGpus: number,
  labels: Record<string, string> = {},
): ExistingNode => ({
  name,
  sku,
  freeGpus,
  labels,
});
const problem = (over: Partial<Problem>): Problem => ({
  catalog: [],
  quota: {},
  nodes: [],
  demands: [],
  ...over,
});

async function plan(p: Problem): Promise<Plan> {
  const out = await solve(p);
  expect(checkPlan(p, out)).toEqual([]);
  return out;
}
const skusOf = (p: Plan) => p.newNodes.map((n) => n.sku).sort();

describe("solve: new nodes and labels", () => {
  it("packs replicas onto shared nodes when that is cheaper", async () => {
    // Two 2-GPU replicas fill one T4x4 ($4.352) instead of two A100s ($7.346).
    const out = await plan(problem({ catalog: [T4x4, A100], demands: [demand("a", { replicas: 2 })] }));
    expect(skusOf(out)).toEqual(["T4x4"]);
    expect(out.costPerHour).toBeCloseTo(4.352, 9);
    expect(out.placements.map((p) => p.gpus)).toEqual([2, 2]);
    expect(out.status).toBe("optimal");
    expect(out.lowerBound).toBe(out.costPerHour);
  });

  it("never puts demands with different labels on one new node", async () => {
    const out = await plan(
      problem({
        catalog: [T4x4, A100],
        demands: [demand("a", { labels: { team: "a" } }), demand("b", { labels: { team: "b" } })],
      }),
    );
    // Sharing a T4x4 would cost 4.352; apart, each takes an A100.
    expect(skusOf(out)).toEqual(["A100", "A100"]);
    expect(out.newNodes.map((n) => n.labels)).toEqual(expect.arrayContaining([{ team: "a" }, { team: "b" }]));
  });

  it("lets demands with identical labels share, whatever the key order", async () => {
    const out = await plan(
      problem({
        catalog: [T4x4, A100],
        demands: [
          demand("a", { labels: { team: "a", tier: "x" } }),
          demand("b", { labels: { tier: "x", team: "a" } }),
        ],
      }),
    );
    expect(skusOf(out)).toEqual(["T4x4"]);
    expect(out.newNodes[0]!.labels).toEqual({ team: "a", tier: "x" });
  });

  it("respects the skus filter and the minimum per-GPU memory", async () => {
    const out = await plan(
      problem({
        catalog: [T4x4, T4x1, A100],
        demands: [
          demand("listed", { totalGpuMemoryGiB: 8, skus: ["A100"] }),
          demand("min", { totalGpuMemoryGiB: 8, minGpuMemoryGiB: 40 }),
        ],
      }),
    );
    expect(skusOf(out)).toEqual(["A100", "A100"]);
  });

  it("counts a node whose GPU count is not a power of two correctly", async () => {
    // Three 4-GPU replicas hold 12 GPUs = 2 × 6, yet no 6-GPU node holds two of them.
    const out = await plan(
      problem({ catalog: [A10x6], demands: [demand("a", { replicas: 3, totalGpuMemoryGiB: 90 })] }),
    );
    expect(out.newNodes).toHaveLength(3);
    // While 4 + 2 share one.
    const mixed = await plan(
      problem({
        catalog: [A10x6],
        demands: [demand("a", { totalGpuMemoryGiB: 90 }), demand("b", { totalGpuMemoryGiB: 40 })],
      }),
    );
    expect(mixed.newNodes).toHaveLength(1);
  });

  it("gives new nodes deterministic names and the same plan every time", async () => {
    const p = problem({
      catalog: [T4x4, A100, T4x1],
      demands: [
        demand("a", { replicas: 3 }),
        demand("b", { replicas: 2, totalGpuMemoryGiB: 8, labels: { t: "1" } }),
      ],
    });
    const first = await plan(p);
    const second = await plan(p);
    expect({ ...first, solveMs: 0 }).toEqual({ ...second, solveMs: 0 });
    expect(first.newNodes.map((n) => n.name)).toEqual(["t4x1-1", "t4x1-2", "t4x4-1", "a100-1"]);
  });
});

describe("solve: existing nodes", () => {
  it("uses their free GPUs at no cost", async () => {
    const out = await plan(
      problem({
        catalog: [T4x4, A100],
        nodes: [node("old", "T4x4", 4)],
        demands: [demand("a", { replicas: 3 })],
      }),
    );
    expect(out.placements.filter((p) => p.node === "old")).toHaveLength(2);
    expect(out.costPerHour).toBeCloseTo(3.673, 9);
  });

  it("requires the node to carry all of the demand's labels", async () => {
    const p = problem({
      catalog: [A100],
      nodes: [node("old", "T4x4", 4, { team: "a", zone: "1" })],
      demands: [
        demand("a", { labels: { team: "a" } }),
        demand("b", { labels: { team: "b" } }),
        demand("any"),
      ],
    });
    const out = await plan({ ...p, catalog: [T4x4, A100] });
    const onOld = out.placements.filter((x) => x.node === "old").map((x) => x.demand);
    expect(onOld.sort()).toEqual(["a", "any"]);
  });

  it("may mix demands with different labels on an existing node", async () => {
    const out = await plan(
      problem({
        catalog: [T4x4],
        nodes: [node("old", "T4x4", 4, { team: "a" })],
        demands: [demand("a", { labels: { team: "a" } }), demand("any")],
      }),
    );
    expect(out.newNodes).toEqual([]);
    expect(out.costPerHour).toBe(0);
  });

  it("takes only as many replicas as fit in each node's free GPUs", async () => {
    // 3 free GPUs hold one 2-GPU replica, not one and a half.
    const out = await plan(
      problem({
        catalog: [T4x4, A100],
        nodes: [node("n1", "T4x4", 3), node("n2", "T4x4", 3)],
        demands: [demand("a", { replicas: 3 })],
      }),
    );
    expect(out.placements.filter((p) => p.node.startsWith("n")).length).toBe(2);
    expect(out.newNodes).toHaveLength(1);
  });

  it("puts only eligible demands on them", async () => {
    const out = await plan(
      problem({
        catalog: [T4x4, A100],
        nodes: [node("old", "T4x4", 4)],
        demands: [demand("a", { skus: ["A100"] }), demand("b", { minGpuMemoryGiB: 40 })],
      }),
    );
    expect(out.placements.some((p) => p.node === "old")).toBe(false);
  });

  it("never uses one for a multi-node replica", async () => {
    const out = await plan(
      problem({
        catalog: [T4x4],
        nodes: [node("old", "T4x4", 4)],
        demands: [demand("big", { totalGpuMemoryGiB: 100, maxNodesPerReplica: 2 })],
      }),
    );
    expect(out.placements.map((p) => p.node)).toEqual(["t4x4-1", "t4x4-2"]);
  });
});

describe("solve: multi-node replicas", () => {
  it("take k/G whole new nodes, one placement per node", async () => {
    const out = await plan(
      problem({
        catalog: [A100, T4x4],
        demands: [demand("llama", { replicas: 2, totalGpuMemoryGiB: 150, maxNodesPerReplica: 2 })],
      }),
    );
    expect(out.newNodes).toHaveLength(4);
    expect(out.placements).toHaveLength(4);
    expect(out.placements.every((p) => p.gpus === 1)).toBe(true);
    const nodesOfReplica0 = out.placements.filter((p) => p.replica === 0).map((p) => p.node);
    expect(new Set(nodesOfReplica0).size).toBe(2);
  });

  it("prefer one bigger node when maxNodesPerReplica forbids spanning", async () => {
    const out = await plan(
      problem({ catalog: [A100, A100x8], demands: [demand("llama", { totalGpuMemoryGiB: 150 })] }),
    );
    expect(skusOf(out)).toEqual(["A100x8"]);
    expect(out.placements).toEqual([{ demand: "llama", replica: 0, node: "a100x8-1", gpus: 2 }]);
  });
});

describe("solve: quotas", () => {
  it("keep each family within its vCPU headroom", async () => {
    // Only one A100 (24 vCPUs) fits the quota; the second replica goes to a T4x4.
    const out = await plan(
      problem({
        catalog: [A100, T4x4],
        quota: { a100: 30 },
        demands: [demand("a", { replicas: 2, totalGpuMemoryGiB: 40 })],
      }),
    );
    expect(skusOf(out)).toEqual(["A100", "T4x4"]);
  });

  it("bar a family with no headroom", async () => {
    const out = await plan(problem({ catalog: [A100, T4x4], quota: { a100: 0 }, demands: [demand("a")] }));
    expect(skusOf(out)).toEqual(["T4x4"]);
  });

  it("place as many replicas as possible before minimising cost", async () => {
    // The cheap way gives the one allowed A100 to `flexible`; then `pinned` has nowhere to go.
    const out = await plan(
      problem({
        catalog: [A100, T4x4],
        quota: { a100: 24 },
        demands: [demand("flexible", { totalGpuMemoryGiB: 40 }), demand("pinned", { skus: ["A100"] })],
      }),
    );
    expect(out.unplaced).toEqual([]);
    expect(out.placements.find((p) => p.demand === "pinned")!.node).toMatch(/^a100-/);
  });

  it("report what the quota leaves unplaced, with the reason", async () => {
    const out = await plan(
      problem({
        catalog: [A100],
        quota: { a100: 48 },
        demands: [demand("a", { replicas: 3, totalGpuMemoryGiB: 40 })],
      }),
    );
    expect(out.placements).toHaveLength(2);
    expect(out.unplaced).toEqual([
      {
        demand: "a",
        replica: 2,
        code: "QuotaExhausted",
        reason:
          "the vCPU quota of every eligible SKU family is used up (a100 48 vCPUs) and no existing node with matching labels has enough free GPUs",
      },
    ]);
    expect(out.status).toBe("optimal");
  });

  it("spread a shortfall over the demands of one class", async () => {
    const out = await plan(
      problem({
        catalog: [A100],
        quota: { a100: 48 },
        demands: [demand("a", { replicas: 2 }), demand("b", { replicas: 2 })],
      }),
    );
    expect(out.unplaced.map((u) => `${u.demand}#${u.replica}`)).toEqual(["a#1", "b#1"]);
  });
});

describe("solve: demands no SKU can host", () => {
  it.each([
    [
      demand("m", { minGpuMemoryGiB: 100 }),
      "no SKU has enough per-GPU memory: the demand needs at least 100 GiB per GPU and the most any has is 80 GiB",
    ],
    [
      demand("m", { minGpuMemoryGiB: 100, skus: ["T4x4"] }),
      "no listed SKU has enough per-GPU memory: the demand needs at least 100 GiB per GPU and the most any has is 16 GiB",
    ],
    [
      demand("n", { totalGpuMemoryGiB: 300 }),
      "each replica needs 4 nodes of A100 for its 300 GiB but maxNodesPerReplica is 1",
    ],
    [
      demand("w", { totalGpuMemoryGiB: 100, skus: ["A10x6"], maxNodesPerReplica: 4 }),
      "each replica needs 8 GPUs of A10x6, which is not a whole number of its 6-GPU nodes, and no other listed SKU fits",
    ],
  ])("are unplaced with the reason: %j", async (d, reason) => {
    const out = await plan(
      problem({ catalog: [A100, T4x4, A10x6], demands: [{ ...d, replicas: 2 }, demand("ok")] }),
    );
    expect(out.unplaced).toEqual([
      { demand: d.name, replica: 0, code: "NoEligibleSku", reason },
      { demand: d.name, replica: 1, code: "NoEligibleSku", reason },
    ]);
    expect(out.placements.map((p) => p.demand)).toEqual(["ok"]);
  });

  it("an empty problem is an empty plan", async () => {
    const out = await plan(problem({ catalog: [A100] }));
    expect(out).toMatchObject({
      costPerHour: 0,
      newNodes: [],
      placements: [],
      unplaced: [],
      lowerBound: 0,
      gap: 0,
    });
  });
});

describe("solve: time limit and solver seam", () => {
  const p = problem({ catalog: [T4x4, A100], demands: [demand("a", { replicas: 3 })] });

  it("measures solveMs on the injected clock", async () => {
    const clock = new FakeClock();
    const slow: MilpSolver = {
      name: "slow",
      async solve(model, options) {
        clock.step(250);
        const { glpkSolver } = await import("../solver/glpk.ts");
        return glpkSolver.solve(model, options);
      },
    };
    const out = await solve(p, { solver: slow, clock });
    expect(out.solveMs).toBeGreaterThanOrEqual(250);
    expect(out.solveMs % 250).toBe(0);
  });

  it("falls back to first-fit decreasing when the solver finds nothing in time", async () => {
    const nothing: MilpSolver = {
      name: "nothing",
      solve: async () => ({ status: "noSolution", objective: NaN, values: [] }),
    };
    const out = await solve(p, { solver: nothing });
    expect(checkPlan(p, out)).toEqual([]);
    expect(out.status).toBe("heuristic");
    expect(out.unplaced).toEqual([]);
  });

  it("reports an unproven plan as timeLimit with its gap", async () => {
    const { glpkSolver } = await import("../solver/glpk.ts");
    // A solver that returns its incumbent but never proves it, as GLPK does at its time limit.
    const unproven: MilpSolver = {
      name: "unproven",
      async solve(model, options) {
        const r = await glpkSolver.solve(model, options);
        return options?.relax
          ? r
          : { ...r, status: r.status === "optimal" ? "feasible" : r.status, bound: undefined };
      },
    };
    const out = await solve(p, { solver: unproven });
    expect(checkPlan(p, out)).toEqual([]);
    expect(out.status).toBe("timeLimit");
    expect(out.lowerBound).toBeLessThanOrEqual(out.costPerHour);
    expect(out.gap).toBeCloseTo((out.costPerHour - out.lowerBound) / out.costPerHour, 12);
  });
});

describe("solve: a generated fleet", () => {
  it("is solved block by block to a valid plan whose bound holds against HiGHS's optimum", async () => {
    const { generateProblem } = await import("../bench/generate.ts");
    const { toCatalogEntries } = await import("../catalog/index.ts");
    const { highsSolver } = await import("../solver/highs.ts");
    const { problem } = generateProblem(120, toCatalogEntries(), 7);
    const out = await solve(problem, { timeLimitMs: 8000 });
    expect(checkPlan(problem, out)).toEqual([]);
    const exact = await solve(problem, { solver: highsSolver, strategy: "whole", timeLimitMs: 30_000 });
    expect(exact.status).toBe("optimal");
    expect(out.unplaced.length).toBe(exact.unplaced.length);
    expect(out.lowerBound).toBeLessThanOrEqual(exact.costPerHour + 1e-6);
    expect(out.costPerHour).toBeGreaterThanOrEqual(exact.costPerHour - 1e-6);
    expect(out.gap).toBeLessThan(0.02);
  }, 60_000);
});
