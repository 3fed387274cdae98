import { describe, expect, it } from "vitest";
import { isUserError } from "../../lib/errors.ts";
import { parseProblem, validateProblem } from "./parse.ts";
import type { SkuSpec } from "./types.ts";

const catalog = `
catalog:
  - {name: Standard_NC24ads_A100_v4, gpus: 1, gpuMemoryGiB: 80, vcpus: 24, family: fa, pricePerHour: 3.673}
  - {name: Standard_NC64as_T4_v3, gpus: 4, gpuMemoryGiB: 16, vcpus: 64, family: ft, pricePerHour: 4.352}
`;

function errorOf(text: string): string {
  try {
    parseProblem(text);
  } catch (e) {
    expect(isUserError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error("expected the problem to be rejected");
}

describe("parseProblem", () => {
  it("reads a complete YAML problem with defaults filled in", () => {
    const p = parseProblem(`${catalog}
quota: {fa: 48}
nodes:
  - {name: n1, sku: standard_nc64as_t4_v3, labels: {team: a}, freeGpus: 3}
demands:
  - {name: llama, replicas: 2, totalGpuMemoryGiB: 20, skus: [Standard_NC64as_T4_v3], labels: {team: a}}
  - {name: big, replicas: 1, totalGpuMemoryGiB: 150, minGpuMemoryGiB: 40, maxNodesPerReplica: 2}
`);
    expect(p.quota).toEqual({ fa: 48 });
    // SKU names match case-insensitively and come out as the catalogue spells them.
    expect(p.nodes[0]!.sku).toBe("Standard_NC64as_T4_v3");
    expect(p.demands[0]).toMatchObject({ minGpuMemoryGiB: 0, maxNodesPerReplica: 1, labels: { team: "a" } });
    expect(p.demands[1]).toMatchObject({ minGpuMemoryGiB: 40, maxNodesPerReplica: 2, labels: {} });
  });

  it("reads JSON", () => {
    const p = parseProblem(
      JSON.stringify({
        catalog: [{ name: "A", gpus: 1, gpuMemoryGiB: 80, vcpus: 24, family: "f", pricePerHour: 3 }],
        demands: [{ name: "d", replicas: 1, totalGpuMemoryGiB: 10 }],
      }),
    );
    expect(p.demands).toHaveLength(1);
    expect(p.nodes).toEqual([]);
  });

  it("uses the embedded catalogue when the problem has none", () => {
    const defaultCatalog: SkuSpec[] = [
      { name: "X", gpus: 8, gpuMemoryGiB: 80, vcpus: 96, family: "fx", pricePerHour: 30 },
    ];
    const p = parseProblem(`demands: [{name: d, replicas: 1, totalGpuMemoryGiB: 10, skus: [x]}]`, {
      defaultCatalog,
    });
    expect(p.catalog).toEqual(defaultCatalog);
    expect(p.demands[0]!.skus).toEqual(["X"]);
    expect(() => parseProblem(`demands: []`)).toThrow(/no catalog and no embedded catalogue/);
  });

  it.each([
    [
      `demands: [{name: a, replicas: -1, totalGpuMemoryGiB: 10}]`,
      "demands[0].replicas must be a positive integer, got -1.",
    ],
    [
      `demands: [{name: a, replicas: 1.5, totalGpuMemoryGiB: 10}]`,
      "demands[0].replicas must be a positive integer, got 1.5.",
    ],
    [
      `demands: [{name: a, totalGpuMemoryGiB: 10}]`,
      "demands[0].replicas must be a positive integer, got nothing.",
    ],
    [
      `demands: [{name: a, replicas: "2", totalGpuMemoryGiB: 10}]`,
      'demands[0].replicas must be a positive integer, got "2".',
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 0}]`,
      "demands[0].totalGpuMemoryGiB must be a positive number, got 0.",
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 8, minGpuMemoryGiB: -4}]`,
      "demands[0].minGpuMemoryGiB must be a non-negative number, got -4.",
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 8, maxNodesPerReplica: 0}]`,
      "demands[0].maxNodesPerReplica must be a positive integer, got 0.",
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 8}, {name: b, replicas: 1, totalGpuMemoryGiB: 8}, {name: a, replicas: 1, totalGpuMemoryGiB: 8}]`,
      'demands[2].name "a" repeats demands[0].name.',
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 8, skus: [Standard_ND96asr_v4]}]`,
      'demands[0].skus[0] names "Standard_ND96asr_v4", which is not in the catalogue.',
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 8, skus: []}]`,
      "demands[0].skus must list at least one SKU, or be left out to allow any.",
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 8, labels: {tier: 1}}]`,
      "demands[0].labels.tier must be a string (quote it in YAML), got 1.",
    ],
    [
      `demands: [{name: a, replicas: 1, totalGpuMemoryGiB: 8, gpus: 2}]`,
      'unknown field "gpus" in demands[0]; the fields are name, replicas, totalGpuMemoryGiB, minGpuMemoryGiB, skus, labels, maxNodesPerReplica.',
    ],
    [`demands: {name: a}`, "demands must be a list, got a mapping."],
    [
      `nodes: [{name: n, sku: Nope, freeGpus: 1}]\ndemands: []`,
      'nodes[0].sku names "Nope", which is not in the catalogue.',
    ],
    [
      `nodes: [{name: n, sku: Standard_NC64as_T4_v3, freeGpus: 5}]\ndemands: []`,
      "nodes[0].freeGpus must be an integer from 0 to 4 (the GPUs of Standard_NC64as_T4_v3), got 5.",
    ],
    [
      `nodes: [{name: n, sku: Standard_NC64as_T4_v3, freeGpus: 1}, {name: n, sku: Standard_NC64as_T4_v3, freeGpus: 1}]\ndemands: []`,
      'nodes[1].name "n" repeats nodes[0].name.',
    ],
    [`quota: {fa: -1}\ndemands: []`, "quota.fa must be a non-negative number, got -1."],
    [`demand: []`, 'unknown field "demand" at the top level; the fields are catalog, quota, nodes, demands.'],
  ])("rejects %j", (body, message) => {
    expect(errorOf(`${catalog}${body}`)).toBe(message);
  });

  it.each([
    [
      `catalog: [{name: A, gpus: 0, gpuMemoryGiB: 80, vcpus: 24, family: f, pricePerHour: 1}]\ndemands: []`,
      "catalog[0].gpus must be a positive integer, got 0.",
    ],
    [
      `catalog: [{name: A, gpus: 1, gpuMemoryGiB: 80, vcpus: 24, family: f, pricePerHour: -1}]\ndemands: []`,
      "catalog[0].pricePerHour must be a non-negative number, got -1.",
    ],
    [
      `catalog: [{name: A, gpus: 1, gpuMemoryGiB: 80, vcpus: 24, pricePerHour: 1}]\ndemands: []`,
      "catalog[0].family must be a non-empty string, got nothing.",
    ],
    [
      `catalog: [{name: A, gpus: 1, gpuMemoryGiB: 80, vcpus: 24, family: f, pricePerHour: 1}, {name: a, gpus: 1, gpuMemoryGiB: 80, vcpus: 24, family: f, pricePerHour: 1}]\ndemands: []`,
      'catalog[1].name "a" repeats catalog[0].name.',
    ],
    [
      `catalog: []\ndemands: []`,
      "catalog must list at least one SKU, or be left out to use the embedded one.",
    ],
    [`${catalog}`, "demands is missing: list the workloads to place."],
    [`- just\n- a list`, "the problem must be a mapping with catalog, quota, nodes and demands, got a list."],
  ])("rejects the catalogue or shape %j", (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it("says a malformed file is not YAML, in one sentence", () => {
    const message = errorOf(`demands: [{name: a, replicas: 1`);
    expect(message).toMatch(/^the problem file is not valid YAML or JSON: .+\.$/);
    expect(message).not.toContain("\n");
  });

  it("validates objects as well as text", () => {
    expect(() => validateProblem(null)).toThrow(/must be a mapping/);
  });
});
