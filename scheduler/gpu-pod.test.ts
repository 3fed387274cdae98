import { describe, expect, it } from "vitest";
import { podObject } from "./fixtures.ts";
import { effectiveGpuRequest, toGpuPod } from "./gpu-pod.ts";
import { toGpuNode } from "./gpu-node.ts";
import { nodeObject } from "./fixtures.ts";

const gpu = (n: number | undefined, kind: "requests" | "limits" = "requests") =>
  n === undefined ? {} : { resources: { [kind]: { "nvidia.com/gpu": String(n) } } };

describe("effectiveGpuRequest", () => {
  it("sums app containers and falls back to limits when a request is missing", () => {
    expect(effectiveGpuRequest({ containers: [gpu(2), gpu(1, "limits"), gpu(undefined)] })).toBe(3);
  });

  it("takes the largest one-shot init container when it exceeds the app containers", () => {
    expect(effectiveGpuRequest({ containers: [gpu(1)], initContainers: [gpu(4), gpu(2)] })).toBe(4);
    expect(effectiveGpuRequest({ containers: [gpu(4)], initContainers: [gpu(2)] })).toBe(4);
  });

  it("adds sidecars to the sum and to the init containers that start after them", () => {
    const spec = {
      containers: [gpu(1)],
      initContainers: [{ ...gpu(1), restartPolicy: "Always" }, gpu(3)],
    };
    // App phase: 1 + sidecar 1 = 2; init phase: 3 + sidecar 1 = 4.
    expect(effectiveGpuRequest(spec)).toBe(4);
  });

  it("adds the pod overhead and ignores nonsense", () => {
    expect(effectiveGpuRequest({ containers: [gpu(1)], overhead: { "nvidia.com/gpu": "1" } })).toBe(2);
    expect(
      effectiveGpuRequest({ containers: [{ resources: { requests: { "nvidia.com/gpu": "x" } } }] }),
    ).toBe(0);
    expect(effectiveGpuRequest(undefined)).toBe(0);
  });
});

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
