import { describe, expect, it } from "vitest";
import type { DecodedPlan } from "./decode.ts";
import { preferSmallerNodes } from "./smaller-nodes.ts";
import { solve } from "./solve.ts";
import type { Demand, Problem, SkuSpec } from "./types.ts";
import { checkPlan } from "./verify.ts";

// Azure's A100 v4 sizes: 1, 2 and 4 GPUs of 80 GiB at exactly linear prices.
const a100 = (gpus: number): SkuSpec => ({
  name: `A100x${gpus}`,
  gpus,
  gpuMemoryGiB: 80,
  vcpus: 24 * gpus,
  family: "a100",
  pricePerHour: 3.673 * gpus,
});
const [A1, A2, A4] = [a100(1), a100(2), a100(4)];
const T4x1: SkuSpec = {
  name: "T4x1",
  gpus: 1,
  gpuMemoryGiB: 16,
  vcpus: 4,
  family: "t4",
  pricePerHour: 0.526,
};
const T4x4: SkuSpec = {
  name: "T4x4",
  gpus: 4,
  gpuMemoryGiB: 16,
  vcpus: 64,
  family: "t4",
  pricePerHour: 4.352,
};

function demand(name: string, replicas: number, gib: number, more: Partial<Demand> = {}): Demand {
  return {
    name,
    replicas,
    totalGpuMemoryGiB: gib,
    minGpuMemoryGiB: 0,
    labels: {},
    maxNodesPerReplica: 1,
    ...more,
  };
}

function problem(catalog: SkuSpec[], demands: Demand[]): Problem {
  return { catalog, quota: {}, nodes: [], demands };
}

/** A plan with one new node of `sku` holding `gpus` (one replica each) of demand "d". */
function onOneNode(sku: SkuSpec, gpus: number[]): DecodedPlan {
  return {
    newNodes: [{ name: "big-1", sku: sku.name, labels: { team: "a" } }],
    placements: gpus.map((g, replica) => ({ demand: "d", replica, node: "big-1", gpus: g })),
    unplaced: [],
    costPerHour: sku.pricePerHour,
  };
}

describe("preferSmallerNodes", () => {
  it("gives the solver's equal-price choice as one node per replica", async () => {
    const p = problem([A4, A2, A1], [demand("d", 4, 60)]);
    const plan = await solve(p);
    expect(plan.costPerHour).toBeCloseTo(4 * 3.673, 6);
    expect(plan.newNodes.map((n) => n.sku)).toEqual(["A100x1", "A100x1", "A100x1", "A100x1"]);
    expect(new Set(plan.placements.map((x) => x.node)).size).toBe(4);
    expect(checkPlan(p, plan)).toEqual([]);
  });

  it("splits by replica, never a replica: 2-GPU replicas go to 2-GPU nodes", () => {
    const p = problem([A1, A2, A4], [demand("d", 2, 150)]);
    const out = preferSmallerNodes(onOneNode(A4, [2, 2]), p);
    expect(out.newNodes.map((n) => [n.sku, n.labels])).toEqual([
      ["A100x2", { team: "a" }],
      ["A100x2", { team: "a" }],
    ]);
    expect(out.placements.map((x) => [x.replica, x.node, x.gpus])).toEqual([
      [0, out.newNodes[0]!.name, 2],
      [1, out.newNodes[1]!.name, 2],
    ]);
    expect(out.costPerHour).toBeCloseTo(A4.pricePerHour, 6);
  });

  it("keeps a node whose replicas would cost more apart", () => {
    // Four 1-GPU replicas on a 4-GPU node whose 1-GPU sibling is dearer per GPU.
    const dear = { ...A1, pricePerHour: 4 };
    const p = problem([dear, A4], [demand("d", 4, 60)]);
    expect(preferSmallerNodes(onOneNode(A4, [1, 1, 1, 1]), p).newNodes.map((n) => n.sku)).toEqual(["A100x4"]);
  });

  it("keeps a node when no smaller size of its family and GPU memory holds a replica", () => {
    const p = problem([T4x1, T4x4], [demand("d", 2, 20)]);
    // 20 GiB needs two 16 GiB GPUs; the 1-GPU T4 size cannot hold one on its own.
    const plan = onOneNode(T4x4, [2, 2]);
    expect(preferSmallerNodes(plan, p)).toBe(plan);
  });

  it("respects a demand's own list of sizes", () => {
    const p = problem([A1, A4], [demand("d", 4, 60, { skus: ["A100x4"] })]);
    const plan = onOneNode(A4, [1, 1, 1, 1]);
    expect(preferSmallerNodes(plan, p)).toBe(plan);
  });

  it("leaves the nodes of a replica that spans several alone", () => {
    const p = problem([A1, A2], [demand("d", 1, 300, { maxNodesPerReplica: 2 })]);
    const plan: DecodedPlan = {
      newNodes: [
        { name: "n-1", sku: "A100x2", labels: {} },
        { name: "n-2", sku: "A100x2", labels: {} },
      ],
      placements: [
        { demand: "d", replica: 0, node: "n-1", gpus: 2 },
        { demand: "d", replica: 0, node: "n-2", gpus: 2 },
      ],
      unplaced: [],
      costPerHour: 2 * A2.pricePerHour,
    };
    expect(preferSmallerNodes(plan, p)).toBe(plan);
  });
});
