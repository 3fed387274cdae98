import { describe, expect, it } from "vitest";
import type { SkuSpec } from "../packing/types.ts";
import { isPlannerError } from "./errors.ts";
import type { ProblemInput } from "./types.ts";
import { checkProblem } from "./validate.ts";

const a100: SkuSpec = {
  name: "Standard_NC24ads_A100_v4",
  gpus: 1,
  gpuMemoryGiB: 80,
  vcpus: 24,
  family: "f",
  pricePerHour: 3.673,
};

function message(input: unknown): string {
  try {
    checkProblem(input as ProblemInput, [a100]);
  } catch (e) {
    if (isPlannerError(e) && e.code === "InvalidArgument") return e.message;
    throw e;
  }
  throw new Error("expected InvalidArgument");
}

describe("checkProblem", () => {
  it("fills the problem file's defaults", () => {
    expect(checkProblem({ demands: [{ name: "d", replicas: 1, totalGpuMemoryGiB: 10 }] }, [a100])).toEqual({
      catalog: [a100],
      quota: {},
      nodes: [],
      demands: [
        {
          name: "d",
          replicas: 1,
          totalGpuMemoryGiB: 10,
          minGpuMemoryGiB: 0,
          labels: {},
          maxNodesPerReplica: 1,
        },
      ],
    });
  });

  it("refuses more demands or nodes than one plan takes, before reading them", () => {
    const demands = Array.from({ length: 50_001 }, (_, i) => ({
      name: `d${i}`,
      replicas: 1,
      totalGpuMemoryGiB: 1,
    }));
    expect(message({ demands })).toBe(
      "the problem has 50,001 demands, more than the 50,000 one plan takes; split it into several problems.",
    );
    const nodes = Array.from({ length: 50_001 }, () => ({ name: "n", sku: a100.name, freeGpus: 1 }));
    expect(message({ nodes, demands: [] })).toMatch(/^the problem has 50,001 existing nodes, more than/);
  });

  it.each([
    [null, "the problem must be an object."],
    [{}, "the problem needs a demands list."],
    [
      { catalog: [{ ...a100, gpus: 0 }], demands: [] },
      'catalog SKU "Standard_NC24ads_A100_v4" needs a whole number of GPUs, 1 or more (got 0).',
    ],
    [
      { catalog: [{ ...a100, pricePerHour: -1 }], demands: [] },
      'catalog SKU "Standard_NC24ads_A100_v4" needs pricePerHour of 0 or more (got -1).',
    ],
    [
      { catalog: [a100, { ...a100, name: "standard_nc24ads_a100_v4" }], demands: [] },
      'catalog SKU "standard_nc24ads_a100_v4" appears twice.',
    ],
    [
      { quota: { f: 1.5 }, demands: [] },
      'quota of family "f" must be a whole number of vCPUs, 0 or more (got 1.5).',
    ],
    [
      { nodes: [{ name: "n", sku: "Standard_X", freeGpus: 0 }], demands: [] },
      'node "n" has SKU "Standard_X", which is not in the catalog.',
    ],
    [
      { demands: [{ name: "d", replicas: 1, totalGpuMemoryGiB: 0 }] },
      'demand "d" needs totalGpuMemoryGiB above 0 (got 0).',
    ],
    [
      { demands: [{ name: "d", replicas: 1, totalGpuMemoryGiB: 1, maxNodesPerReplica: 0 }] },
      'demand "d" needs maxNodesPerReplica of 1 or more (got 0).',
    ],
    [
      { demands: [{ name: "d", replicas: 1, totalGpuMemoryGiB: 1, labels: { a: 1 } }] },
      'demand "d" has label "a" whose value is not a string.',
    ],
    [
      {
        demands: [
          { name: "d", replicas: 1, totalGpuMemoryGiB: 1 },
          { name: "d", replicas: 1, totalGpuMemoryGiB: 1 },
        ],
      },
      'demand "d" appears twice.',
    ],
  ])("rejects %j", (input, expected) => {
    expect(message(input)).toBe(expected);
  });
});
