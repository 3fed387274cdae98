import { describe, expect, it } from "vitest";
import { instanceTypeLabel, zoneLabel } from "../../../crds/index.ts";
import { mustFindSku } from "../../../planner/catalog/index.ts";
import { machine } from "../../fixtures.ts";
import {
  bootDueAt,
  bootedNode,
  buildNode,
  gpuLabels,
  instanceFromNode,
  nameOfProviderId,
  providerIdOf,
  skuCapacity,
  taintsAfterBoot,
} from "./node.ts";

const a100 = mustFindSku("Standard_NC24ads_A100_v4");
const bootAt = Date.UTC(2026, 0, 1, 0, 0, 5);

describe("local instance nodes", () => {
  it("carry the SKU's capacity and the labels of an AKS GPU node", () => {
    expect(skuCapacity(a100)).toEqual({
      cpu: String(a100.vcpus),
      memory: `${a100.memoryGiB}Gi`,
      pods: "110",
      "nvidia.com/gpu": String(a100.gpus),
    });
    expect(gpuLabels(a100)).toEqual({
      "kubernetes.azure.com/accelerator": "nvidia",
      "nvidia.com/gpu.product": `NVIDIA-A100-${a100.gpuMemoryGiB}GB`,
      "nvidia.com/gpu.count": String(a100.gpus),
      "nvidia.com/gpu.memory": String(a100.gpuMemoryGiB * 1024),
    });
  });

  it("are named after the Machine, with its labels, pinned requirements, taints and startup taints", () => {
    const m = machine({
      metadata: { name: "ws-abc-1" },
      spec: {
        requirements: [{ key: instanceTypeLabel, operator: "In", values: ["standard_nc24ads_a100_v4"] }],
        taints: [{ key: "sku", value: "gpu", effect: "NoSchedule" }],
        startupTaints: [{ key: "driver", effect: "NoExecute" }],
      },
    });
    const node = buildNode({
      machine: m,
      sku: a100,
      instanceType: "standard_nc24ads_a100_v4",
      zone: "local-1",
      region: "local",
      bootAt,
    });
    expect(node.metadata?.name).toBe("ws-abc-1");
    expect(node.spec?.providerID).toBe("kwok://ws-abc-1");
    expect(node.metadata?.labels).toMatchObject({
      apps: "phi-3",
      [instanceTypeLabel]: "standard_nc24ads_a100_v4",
      [zoneLabel]: "local-1",
      "kaito.sh/local-instance": "true",
      "kaito.sh/machine": "ws-abc-1",
      "kubernetes.azure.com/accelerator": "nvidia",
    });
    expect(node.metadata?.annotations).toMatchObject({
      "kwok.x-k8s.io/node": "fake",
      "kaito.sh/booting-until": "2026-01-01T00:00:05.000Z",
    });
    expect(node.spec?.taints).toEqual([
      { key: "sku", value: "gpu", effect: "NoSchedule" },
      { key: "driver", effect: "NoExecute" },
    ]);
    expect(bootDueAt(node)).toBe(bootAt);
    expect(taintsAfterBoot(node)).toEqual([{ key: "sku", value: "gpu", effect: "NoSchedule" }]);
    const booted = bootedNode(node);
    expect(bootDueAt(booted)).toBeUndefined();
    expect(booted.metadata?.annotations).toEqual({ "kwok.x-k8s.io/node": "fake" });
    expect(booted.spec?.taints).toEqual([{ key: "sku", value: "gpu", effect: "NoSchedule" }]);

    const instance = instanceFromNode({
      ...node,
      metadata: { ...node.metadata, creationTimestamp: "2026-01-01T00:00:00Z" },
    });
    expect(instance).toMatchObject({
      providerID: "kwok://ws-abc-1",
      machineName: "ws-abc-1",
      instanceType: "standard_nc24ads_a100_v4",
      zone: "local-1",
      createdAt: Date.UTC(2026, 0, 1),
    });
  });

  it("never boot when marked so, and map providerIDs back to names", () => {
    const node = buildNode({
      machine: machine(),
      sku: a100,
      instanceType: a100.name,
      zone: "z",
      region: "r",
      bootAt,
      neverBoots: true,
    });
    expect(bootDueAt(node)).toBeUndefined();
    expect(nameOfProviderId(providerIdOf("n1"))).toBe("n1");
    expect(nameOfProviderId("azure:///subscriptions/x")).toBeUndefined();
  });
});
