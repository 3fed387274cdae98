import { describe, expect, it } from "vitest";
import { planDedicated, planFfd } from "./baselines.ts";
import type { Demand, Problem, SkuSpec } from "./types.ts";
import { checkPlan } from "./verify.ts";

const T4x4: SkuSpec = {
  name: "T4x4",
  gpus: 4,
  gpuMemoryGiB: 16,
  vcpus: 64,
  family: "t4",
  pricePerHour: 4.352,
};
const A100: SkuSpec = {
  name: "A100",
  gpus: 1,
  gpuMemoryGiB: 80,
  vcpus: 24,
  family: "a100",
  pricePerHour: 3.673,
};
const A100x4: SkuSpec = {
  name: "A100x4",
  gpus: 4,
  gpuMemoryGiB: 80,
  vcpus: 96,
  family: "a100",
  pricePerHour: 14.692,
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
const problem = (over: Partial<Problem>): Problem => ({
  catalog: [T4x4, A100, A100x4],
  quota: {},
  nodes: [],
  demands: [],
  ...over,
});

describe("planDedicated (KAITO's policy)", () => {
  it("gives every replica a node of its own of the cheapest fitting SKU", () => {
    const p = problem({ demands: [demand("a", { replicas: 2 }), demand("b", { replicas: 1 })] });
    const plan = planDedicated(p);
    expect(checkPlan(p, plan)).toEqual([]);
    expect(plan.newNodes.map((n) => n.sku)).toEqual(["A100", "A100", "A100"]);
    expect(plan.costPerHour).toBeCloseTo(3 * 3.673, 9);
    expect(plan.status).toBe("baseline");
  });

  it("uses the given instance type even when it wastes GPUs", () => {
    const p = problem({ demands: [demand("a", { replicas: 2, skus: ["A100x4"] })] });
    const plan = planDedicated(p);
    expect(plan.newNodes.map((n) => n.sku)).toEqual(["A100x4", "A100x4"]);
  });

  it("takes an existing node that fits, whole", () => {
    const p = problem({
      nodes: [{ name: "old", sku: "T4x4", labels: {}, freeGpus: 4 }],
      demands: [demand("a", { replicas: 2 })],
    });
    const plan = planDedicated(p);
    expect(checkPlan(p, plan)).toEqual([]);
    expect(plan.placements.filter((x) => x.node === "old")).toHaveLength(1);
    expect(plan.newNodes).toHaveLength(1);
  });

  it("moves to the next SKU when the quota is spent, and reports what is left", () => {
    const p = problem({ quota: { a100: 24, t4: 64 }, demands: [demand("a", { replicas: 3 })] });
    const plan = planDedicated(p);
    expect(checkPlan(p, plan)).toEqual([]);
    expect(plan.newNodes.map((n) => n.sku)).toEqual(["A100", "T4x4"]);
    expect(plan.unplaced).toHaveLength(1);
    expect(plan.unplaced[0]!.reason).toMatch(/vCPU quota/);
  });
});

describe("planFfd (Karpenter's way)", () => {
  it("fills launched nodes before launching more", () => {
    const p = problem({
      demands: [demand("a", { replicas: 2, skus: ["A100x4"] }), demand("b", { skus: ["A100x4"] })],
    });
    const plan = planFfd(p);
    expect(checkPlan(p, plan)).toEqual([]);
    expect(plan.newNodes.map((n) => n.sku)).toEqual(["A100x4"]);
  });

  it("fills existing nodes first, largest replicas first", () => {
    const p = problem({
      nodes: [{ name: "old", sku: "A100x4", labels: {}, freeGpus: 2 }],
      demands: [demand("small", { totalGpuMemoryGiB: 60 }), demand("large", { totalGpuMemoryGiB: 150 })],
    });
    const plan = planFfd(p);
    expect(checkPlan(p, plan)).toEqual([]);
    expect(plan.placements.find((x) => x.demand === "large")!.node).toBe("old");
  });

  it("shares launched nodes only between identical labels", () => {
    const p = problem({
      demands: [
        demand("a", { skus: ["A100x4"], labels: { team: "a" } }),
        demand("b", { skus: ["A100x4"], labels: { team: "b" } }),
      ],
    });
    const plan = planFfd(p);
    expect(checkPlan(p, plan)).toEqual([]);
    expect(plan.newNodes).toHaveLength(2);
  });

  it("launches whole nodes for multi-node replicas", () => {
    const p = problem({
      demands: [demand("big", { totalGpuMemoryGiB: 150, skus: ["A100"], maxNodesPerReplica: 2 })],
    });
    const plan = planFfd(p);
    expect(checkPlan(p, plan)).toEqual([]);
    expect(plan.placements.map((x) => x.node)).toEqual(["a100-1", "a100-2"]);
  });
});
