import { describe, expect, it } from "vitest";
import { loadCatalog, mustFindSku } from "../../../planner/catalog/index.ts";
import { karpenterInstanceTypes } from "./karpenter-instance-types.ts";

describe("the instance types Karpenter's kwok provider is given", () => {
  const types = karpenterInstanceTypes();

  it("are every GPU size of the planner's catalogue, so Karpenter can launch whatever the planner picks", () => {
    const gpuSizes = loadCatalog()
      .skus.filter((s) => s.gpus > 0)
      .map((s) => s.name);
    expect(types.map((t) => t.name).sort()).toEqual([...gpuSizes].sort());
  });

  it("carry the catalogue's GPUs, vCPUs, memory and price, on demand in the zone, with the GPU labels", () => {
    const a100 = mustFindSku("Standard_NC24ads_A100_v4");
    const t = types.find((x) => x.name === a100.name)!;
    expect(t.resources).toEqual({
      cpu: String(a100.vcpus),
      memory: `${a100.memoryGiB}Gi`,
      pods: "110",
      "nvidia.com/gpu": String(a100.gpus),
    });
    expect(t.operatingSystems).toEqual(["linux"]);
    expect(t.offerings).toHaveLength(1);
    const offering = t.offerings[0]!;
    expect(offering.Price).toBe(a100.pricePerHour);
    expect(offering.Available).toBe(true);
    const label = (key: string) => offering.Requirements.find((r) => r.key === key)?.values;
    expect(label("karpenter.sh/capacity-type")).toEqual(["on-demand"]);
    expect(label("topology.kubernetes.io/zone")).toEqual(["local-1"]);
    expect(label("nvidia.com/gpu.count")).toEqual([String(a100.gpus)]);
    // Single values only: the kwok provider copies those onto the Node as labels.
    expect(offering.Requirements.every((r) => r.operator === "In" && r.values.length === 1)).toBe(true);
  });
});
