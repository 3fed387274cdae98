import { describe, expect, it } from "vitest";
import type { Taint } from "../core/types.ts";
import { compareToSchema, type Complete } from "../schema-paths.ts";
import { machineCrd } from "./schema.ts";
import type { Machine } from "./types.ts";

const taint: Complete<Taint> = {
  key: "nvidia.com/gpu",
  value: "true",
  effect: "NoSchedule",
  timeAdded: "2026-01-01T00:00:00Z",
};

// Complete<> makes tsc insist on every field, so the comparison covers the whole interface.
const everyField: Complete<Machine> = {
  apiVersion: "karpenter.sh/v1alpha5",
  kind: "Machine",
  metadata: {
    name: "ws-abc12",
    generateName: "ws-",
    namespace: "",
    uid: "0000",
    resourceVersion: "1",
    generation: 1,
    creationTimestamp: "2026-01-01T00:00:00Z",
    deletionTimestamp: "2026-01-01T00:00:00Z",
    labels: { "kaito.sh/workspace": "ws" },
    annotations: { a: "b" },
    finalizers: ["karpenter.sh/termination"],
    ownerReferences: [
      { apiVersion: "v1", kind: "K", name: "n", uid: "u", controller: true, blockOwnerDeletion: true },
    ],
  },
  spec: {
    taints: [taint],
    startupTaints: [taint],
    requirements: [{ key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_NC6s_v3"] }],
    resources: { requests: { "nvidia.com/gpu": 1, memory: "8Gi" } },
    kubelet: {
      clusterDNS: ["10.96.0.10"],
      containerRuntime: "containerd",
      maxPods: 110,
      podsPerCore: 10,
      systemReserved: { cpu: "100m" },
      kubeReserved: { cpu: "100m" },
      evictionHard: { "memory.available": "5%" },
      evictionSoft: { "memory.available": "10%" },
      evictionSoftGracePeriod: { "memory.available": "1m30s" },
      evictionMaxPodGracePeriod: 60,
      imageGCHighThresholdPercent: 85,
      imageGCLowThresholdPercent: 80,
      cpuCFSQuota: true,
    },
    machineTemplateRef: { kind: "AKSNodeClass", name: "default", apiVersion: "karpenter.azure.com/v1alpha2" },
  },
  status: {
    nodeName: "aks-ws-abc12",
    providerID:
      "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/ws-abc12",
    capacity: { "nvidia.com/gpu": "1" },
    allocatable: { "nvidia.com/gpu": "1" },
    conditions: [
      {
        type: "Ready",
        status: "True",
        severity: "Info",
        lastTransitionTime: "2026-01-01T00:00:00Z",
        reason: "Initialized",
        message: "",
      },
    ],
  },
};

describe("Machine types and schema", () => {
  it("declare the same fields with the same types", () => {
    expect(compareToSchema(machineCrd.spec.versions[0]!.schema.openAPIV3Schema, everyField)).toEqual([]);
  });

  it("is cluster-scoped with Karpenter's printer columns", () => {
    expect(machineCrd.spec.scope).toBe("Cluster");
    const columns = machineCrd.spec.versions[0]!.additionalPrinterColumns!;
    expect(columns.filter((c) => !c.priority).map((c) => c.name.toUpperCase())).toEqual([
      "TYPE",
      "ZONE",
      "NODE",
      "READY",
      "AGE",
    ]);
  });
});
