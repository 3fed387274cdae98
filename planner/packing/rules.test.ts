import { describe, expect, it } from "vitest";
import { capacityFor, gpusPerReplica, labelKey, labelsInclude, shapeOn } from "./rules.ts";
import type { Demand, SkuSpec } from "./types.ts";

const sku = (over: Partial<SkuSpec> = {}): SkuSpec => ({
  name: "S",
  gpus: 4,
  gpuMemoryGiB: 16,
  vcpus: 64,
  family: "f",
  pricePerHour: 4,
  ...over,
});
const demand = (over: Partial<Demand> = {}): Demand => ({
  name: "d",
  replicas: 1,
  totalGpuMemoryGiB: 20,
  minGpuMemoryGiB: 0,
  labels: {},
  maxNodesPerReplica: 1,
  ...over,
});

describe("k, the GPUs of one replica", () => {
  it.each([
    [8, 16, 1],
    [16, 16, 1],
    [16.5, 16, 2],
    [20, 16, 2],
    [33, 16, 4],
    [64, 16, 4],
    [65, 16, 8],
    [150, 80, 2],
    [1500, 80, 32],
    [24, 24, 1],
    [49, 24, 4],
  ])("%d GiB on %d GiB GPUs takes %d", (total, perGpu, k) => {
    expect(gpusPerReplica(total, perGpu)).toBe(k);
  });

  it("is a power of two even when fewer GPUs would hold the memory", () => {
    // 3 × 16 GiB = 48 GiB would do, but replicas shard over a power of two.
    expect(gpusPerReplica(40, 16)).toBe(4);
  });

  it("does not double for a rounding error in the memory sum", () => {
    expect(gpusPerReplica(0.1 + 0.2 + 15.7, 16)).toBe(1);
  });
});

describe("eligibility of a SKU", () => {
  it("fits on one node when k ≤ G", () => {
    expect(shapeOn(demand({ totalGpuMemoryGiB: 20 }), sku())).toEqual({ kind: "single", gpus: 2 });
  });

  it("requires the minimum per-GPU memory", () => {
    expect(shapeOn(demand({ minGpuMemoryGiB: 40 }), sku({ gpuMemoryGiB: 24 }))).toEqual({
      kind: "ineligible",
      why: { code: "gpuMemory", perGpuGiB: 24, minGiB: 40 },
    });
    expect(shapeOn(demand({ minGpuMemoryGiB: 40 }), sku({ gpuMemoryGiB: 40 })).kind).toBe("single");
  });

  it("honours the skus filter", () => {
    expect(shapeOn(demand({ skus: ["Other"] }), sku()).kind).toBe("ineligible");
    expect(shapeOn(demand({ skus: ["Other", "S"] }), sku()).kind).toBe("single");
  });

  it("spans k/G whole nodes only within maxNodesPerReplica", () => {
    const big = demand({ totalGpuMemoryGiB: 100 }); // k = 8 on 16 GiB GPUs
    expect(shapeOn(big, sku()).kind).toBe("ineligible");
    expect(shapeOn({ ...big, maxNodesPerReplica: 2 }, sku())).toEqual({ kind: "multi", gpus: 8, nodes: 2 });
    expect(shapeOn({ ...big, maxNodesPerReplica: 1 }, sku())).toEqual({
      kind: "ineligible",
      why: { code: "tooManyNodes", nodes: 2, max: 1 },
    });
  });

  it("spans nodes only when G divides k", () => {
    expect(shapeOn(demand({ totalGpuMemoryGiB: 100, maxNodesPerReplica: 4 }), sku({ gpus: 6 }))).toEqual({
      kind: "ineligible",
      why: { code: "notWholeNodes", gpus: 8, nodeGpus: 6 },
    });
  });
});

describe("labels", () => {
  it("a node serves a demand whose labels it all carries", () => {
    expect(labelsInclude({ team: "a", zone: "1" }, { team: "a" })).toBe(true);
    expect(labelsInclude({ team: "a" }, {})).toBe(true);
    expect(labelsInclude({ team: "a" }, { team: "b" })).toBe(false);
    expect(labelsInclude({}, { team: "a" })).toBe(false);
  });

  it("equal label sets have equal keys whatever the order", () => {
    expect(labelKey({ a: "1", b: "2" })).toBe(labelKey({ b: "2", a: "1" }));
    expect(labelKey({ a: "1" })).not.toBe(labelKey({ a: "1", b: "2" }));
  });
});

describe("capacity of a bin for items of size ≥ t", () => {
  it.each([
    [8, 2, 8],
    [6, 4, 4],
    [6, 2, 6],
    [3, 2, 2],
    [3, 1, 3],
    [5, 8, 0],
  ])("a %d-GPU bin offers %d-GPU items %d GPUs", (g, t, cap) => {
    expect(capacityFor(g, t)).toBe(cap);
  });
});
