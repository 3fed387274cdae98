import { describe, expect, it } from "vitest";
import type { KubeObject } from "./client.ts";
import { gpuPods, trimmedNodes } from "./caches.ts";

const pod = (spec: Record<string, unknown>): KubeObject =>
  ({
    metadata: { name: "p", namespace: "ns", managedFields: [{ manager: "kubelet" }], labels: { a: "b" } },
    spec,
    status: { phase: "Running" },
  }) as KubeObject;
const gpu = (n: string, where: "requests" | "limits" = "limits") => ({
  resources: { [where]: { "nvidia.com/gpu": n } },
});

describe("the shared pod cache's transform", () => {
  it("keeps pods that ask for GPUs anywhere kube-scheduler counts them, without managedFields", () => {
    for (const spec of [
      { containers: [{ name: "a" }, { name: "b", ...gpu("1") }] },
      { containers: [{ name: "a", ...gpu("2", "requests") }] },
      { containers: [{ name: "a" }], initContainers: [{ name: "i", ...gpu("1") }] },
      { containers: [{ name: "a" }], overhead: { "nvidia.com/gpu": "1" } },
    ]) {
      const kept = gpuPods.apply(pod(spec));
      expect(kept, JSON.stringify(spec)).toBeDefined();
      expect(kept!.metadata).toEqual({ name: "p", namespace: "ns", labels: { a: "b" } });
      expect((kept as { spec?: unknown }).spec).toEqual(spec);
    }
  });

  it("drops pods without GPUs, or with a zero request", () => {
    expect(
      gpuPods.apply(pod({ containers: [{ name: "a", resources: { requests: { cpu: "1" } } }] })),
    ).toBeUndefined();
    expect(gpuPods.apply(pod({ containers: [{ name: "a", ...gpu("0") }] }))).toBeUndefined();
    expect(gpuPods.apply(pod({}))).toBeUndefined();
  });
});

describe("the shared node cache's transform", () => {
  it("keeps metadata, spec, capacity, allocatable and Ready, and drops the kubelet's bulk", () => {
    const node = {
      metadata: {
        name: "n",
        labels: { x: "y" },
        annotations: { k: "v" },
        managedFields: [{ manager: "kubelet" }],
      },
      spec: {
        providerID: "azure:///x",
        taints: [{ key: "t", effect: "NoSchedule" }],
        podCIDR: "10.0.0.0/24",
      },
      status: {
        capacity: { "nvidia.com/gpu": "4" },
        allocatable: { "nvidia.com/gpu": "4" },
        conditions: [
          { type: "MemoryPressure", status: "False" },
          {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            lastHeartbeatTime: "2026-01-01T00:00:00Z",
          },
        ],
        images: [{ names: ["big"], sizeBytes: 1 }],
        nodeInfo: { kubeletVersion: "v1.37.2" },
        addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
        daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      },
    } as KubeObject;
    expect(trimmedNodes.apply(node)).toEqual({
      metadata: { name: "n", labels: { x: "y" }, annotations: { k: "v" } },
      spec: {
        providerID: "azure:///x",
        taints: [{ key: "t", effect: "NoSchedule" }],
        podCIDR: "10.0.0.0/24",
      },
      status: {
        capacity: { "nvidia.com/gpu": "4" },
        allocatable: { "nvidia.com/gpu": "4" },
        conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
      },
    });
  });
});
