import { describe, expect, it } from "vitest";
import type { Plan, Problem } from "./types.ts";
import { checkPlan } from "./verify.ts";

// The checker is what the other tests and the benchmark trust; make sure it catches each break.
const problem: Problem = {
  catalog: [
    { name: "T4x4", gpus: 4, gpuMemoryGiB: 16, vcpus: 64, family: "t4", pricePerHour: 4 },
    { name: "A100", gpus: 1, gpuMemoryGiB: 80, vcpus: 24, family: "a100", pricePerHour: 3 },
  ],
  quota: { a100: 24 },
  nodes: [{ name: "old", sku: "T4x4", labels: { team: "a" }, freeGpus: 2 }],
  demands: [
    {
      name: "a",
      replicas: 2,
      totalGpuMemoryGiB: 20,
      minGpuMemoryGiB: 0,
      labels: { team: "a" },
      maxNodesPerReplica: 1,
    },
    {
      name: "big",
      replicas: 1,
      totalGpuMemoryGiB: 150,
      minGpuMemoryGiB: 0,
      labels: {},
      maxNodesPerReplica: 2,
    },
  ],
};
const good: Plan = {
  costPerHour: 8,
  newNodes: [
    { name: "t4x4-1", sku: "T4x4", labels: { team: "a" } },
    { name: "t4x4-2", sku: "T4x4", labels: {} },
  ],
  placements: [
    { demand: "a", replica: 0, node: "old", gpus: 2 },
    { demand: "a", replica: 1, node: "t4x4-1", gpus: 2 },
  ],
  unplaced: [{ demand: "big", replica: 0, code: "QuotaExhausted", reason: "quota" }],
  lowerBound: 8,
  solveMs: 1,
  gap: 0,
  status: "optimal",
};

describe("checkPlan", () => {
  it("accepts a plan that keeps the rules, apart from an empty node", () => {
    expect(
      checkPlan(problem, { ...good, newNodes: good.newNodes.slice(0, 1), costPerHour: 4, lowerBound: 4 }),
    ).toEqual([]);
    expect(checkPlan(problem, good)).toEqual(["new node t4x4-2 holds nothing"]);
  });

  it.each<[string, (p: Plan) => Plan, RegExp]>([
    [
      "overfilled node",
      (p) => ({ ...p, placements: [...p.placements, { demand: "a", replica: 1, node: "old", gpus: 2 }] }),
      /given 4 GPUs but has 2/,
    ],
    [
      "wrong GPU count",
      (p) => ({ ...p, placements: [{ ...p.placements[0]!, gpus: 1 }, p.placements[1]!] }),
      /takes 1 GPUs on old but needs 2/,
    ],
    [
      "missing replica",
      (p) => ({ ...p, placements: p.placements.slice(1) }),
      /a#0 is neither placed nor listed unplaced/,
    ],
    [
      "labels on a new node",
      (p) => ({ ...p, newNodes: [{ ...p.newNodes[0]!, labels: {} }, p.newNodes[1]!] }),
      /labels differ/,
    ],
    [
      "labels on an existing node",
      (p) => ({ ...p, placements: [p.placements[0]!, { ...p.placements[1]!, node: "t4x4-2" }] }),
      /labels differ/,
    ],
    ["cost", (p) => ({ ...p, costPerHour: 1 }), /costPerHour is 1/],
    [
      "unplaced without reason",
      (p) => ({ ...p, unplaced: [{ demand: "big", replica: 0, code: "QuotaExhausted", reason: "" }] }),
      /without a reason/,
    ],
    [
      "quota",
      (p) => ({
        ...p,
        newNodes: [
          ...p.newNodes,
          { name: "x", sku: "A100", labels: {} },
          { name: "y", sku: "A100", labels: {} },
        ],
      }),
      /family a100 uses 48 vCPUs of its 24 quota/,
    ],
    [
      "multi-node replica on one node",
      (p) => ({
        ...p,
        unplaced: [],
        placements: [...p.placements, { demand: "big", replica: 0, node: "t4x4-2", gpus: 4 }],
      }),
      /not eligible|needs/,
    ],
  ])("catches %s", (_, breakIt, message) => {
    expect(checkPlan(problem, breakIt(good)).join("\n")).toMatch(message);
  });
});
