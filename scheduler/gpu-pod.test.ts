import { describe, expect, it } from "vitest";
import { podObject } from "./fixtures.ts";
import { toGpuPod } from "./gpu-pod.ts";
import { toGpuNode } from "./gpu-node.ts";
import { nodeObject } from "./fixtures.ts";

describe("toGpuPod", () => {
  it("reads the workspace, planned nodes and per-GPU memory", () => {
    const pod = toGpuPod(
      podObject({
        name: "p",
        namespace: "team",
        gpus: 2,
        workspace: "ws",
        minGpuMemoryMiB: 40960,
        plannedNodes: ["n1", " n2 ", ""],
      }),
    )!;
    expect(pod).toMatchObject({
      key: "team/p",
      gpus: 2,
      minGpuMemoryMiB: 40960,
      workspace: { namespace: "team", name: "ws" },
      terminated: false,
    });
    expect([...pod.plannedNodes]).toEqual(["n1", "n2"]);
  });

  it("prefers the workspace namespace label over the pod's namespace", () => {
    const pod = toGpuPod(podObject({ name: "p", namespace: "a", workspace: "ws", workspaceNamespace: "b" }))!;
    expect(pod.workspace).toEqual({ namespace: "b", name: "ws" });
  });

  it("marks a malformed memory annotation instead of throwing", () => {
    const pod = toGpuPod(podObject({ name: "p", minGpuMemoryMiB: "lots" }))!;
    expect(pod.invalid).toContain("kaito.sh/min-gpu-memory-mib");
    expect(pod.minGpuMemoryMiB).toBeUndefined();
  });

  it("reads API fields in any case, as Go's decoder does, and needs a name", () => {
    const pod = toGpuPod({
      Metadata: { Name: "p", NameSpace: "x" },
      SPEC: { Containers: [{ Resources: { Limits: { "nvidia.com/gpu": "2" } } }], NodeName: "n" },
      status: { phase: "Succeeded" },
    })!;
    expect(pod).toMatchObject({ key: "x/p", gpus: 2, nodeName: "n", terminated: true });
    expect(toGpuPod({ metadata: {} })).toBeUndefined();
    expect(toGpuPod("pod")).toBeUndefined();
  });
});

describe("toGpuNode", () => {
  it("reads allocatable GPUs, GFD labels and the workspace label", () => {
    expect(toGpuNode(nodeObject({ name: "n", gpus: 4, gpuMemoryMiB: 16384, workspace: "ns/ws" }))).toEqual({
      name: "n",
      gpus: 4,
      gpuMemoryMiB: 16384,
      product: "NVIDIA-A100-SXM4-80GB",
      workspace: { namespace: "ns", name: "ws" },
    });
  });

  it("treats a node without nvidia.com/gpu or labels as having no GPUs", () => {
    expect(toGpuNode({ metadata: { name: "cpu" }, status: { allocatable: { cpu: "4" } } })).toEqual({
      name: "cpu",
      gpus: 0,
    });
    expect(toGpuNode({ metadata: {} })).toBeUndefined();
  });
});
