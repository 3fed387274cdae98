import { describe, expect, it } from "vitest";
import { loadCatalog } from "../catalog/catalog.ts";
import type { Plan } from "../packing/types.ts";
import { planFromWire, planToWire, problemFromWire, problemToWire, skuFromWire, skuToWire } from "./codec.ts";
import { plannerService } from "./proto.ts";
import type { ProblemInput } from "./types.ts";

// Through the real protobuf encoding, as the server and client use it.
const method = () => plannerService().Plan;

describe("codec over planner.proto", () => {
  it("carries a problem through the wire unchanged, optional fields included", () => {
    const problem: ProblemInput = {
      catalog: [{ name: "S", gpus: 8, gpuMemoryGiB: 80, vcpus: 96, family: "f", pricePerHour: 98.32 }],
      quota: { f: 192 },
      nodes: [{ name: "n", sku: "S", labels: { a: "b" }, freeGpus: 3 }],
      demands: [
        {
          name: "d",
          replicas: 3,
          totalGpuMemoryGiB: 140.5,
          minGpuMemoryGiB: 0,
          skus: ["S"],
          labels: { x: "y" },
          maxNodesPerReplica: 2,
        },
        { name: "e", replicas: 1, totalGpuMemoryGiB: 8, labels: {} },
      ],
    };
    const bytes = method().requestSerialize({ problem: problemToWire(problem) });
    expect(problemFromWire(method().requestDeserialize(bytes).problem)).toEqual(problem);
  });

  it("carries a plan through the wire unchanged", () => {
    const plan: Plan = {
      costPerHour: 7.346,
      newNodes: [{ name: "n1", sku: "S", labels: { app: "phi" } }],
      placements: [{ demand: "d", replica: 0, node: "n1", gpus: 2 }],
      unplaced: [{ demand: "d", replica: 1, code: "NoEligibleSku", reason: "no quota." }],
      lowerBound: 7,
      solveMs: 3.25,
      gap: 0.047,
      status: "optimal",
    };
    const bytes = method().responseSerialize({ plan: planToWire(plan) });
    expect(planFromWire(method().responseDeserialize(bytes).plan!)).toEqual(plan);
  });

  it("refuses a plan status it does not know", () => {
    expect(() =>
      planFromWire({
        ...planToWire({
          costPerHour: 0,
          newNodes: [],
          placements: [],
          unplaced: [],
          lowerBound: 0,
          solveMs: 0,
          gap: 0,
          status: "optimal",
        }),
        status: "great",
      }),
    ).toThrow(/unknown plan status "great"/);
  });

  it("carries every catalogue SKU through the wire unchanged", () => {
    const catalog = plannerService().Catalog;
    const skus = loadCatalog().skus;
    const bytes = catalog.responseSerialize({ skus: skus.map(skuToWire) });
    expect(catalog.responseDeserialize(bytes).skus.map(skuFromWire)).toEqual(skus);
  });
});
