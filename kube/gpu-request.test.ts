import { describe, expect, it } from "vitest";
import { podGpuRequest } from "./gpu-request.ts";

const gpu = (n: number | undefined, kind: "requests" | "limits" = "requests") =>
  n === undefined ? {} : { resources: { [kind]: { "nvidia.com/gpu": String(n) } } };
const pod = (spec: object) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec });

describe("podGpuRequest", () => {
  it("sums app containers and falls back to limits when a request is missing", () => {
    expect(podGpuRequest(pod({ containers: [gpu(2), gpu(1, "limits"), gpu(undefined)] }))).toBe(3);
  });

  it("takes the largest one-shot init container when it exceeds the app containers", () => {
    expect(podGpuRequest(pod({ containers: [gpu(1)], initContainers: [gpu(4), gpu(2)] }))).toBe(4);
    expect(podGpuRequest(pod({ containers: [gpu(4)], initContainers: [gpu(2)] }))).toBe(4);
    // An init container alone holds its GPUs while it runs.
    expect(podGpuRequest(pod({ containers: [{ name: "c" }], initContainers: [gpu(2)] }))).toBe(2);
  });

  it("adds sidecars to the sum and to the init containers that start after them", () => {
    const spec = { containers: [gpu(1)], initContainers: [{ ...gpu(1), restartPolicy: "Always" }, gpu(3)] };
    // App phase: 1 + sidecar 1 = 2; init phase: 3 + sidecar 1 = 4.
    expect(podGpuRequest(pod(spec))).toBe(4);
    // A one-shot init container before the sidecar does not share the node with it.
    const before = { containers: [gpu(1)], initContainers: [gpu(3), { ...gpu(1), restartPolicy: "Always" }] };
    expect(podGpuRequest(pod(before))).toBe(3);
  });

  it("adds the pod overhead and ignores nonsense", () => {
    expect(podGpuRequest(pod({ containers: [gpu(1)], overhead: { "nvidia.com/gpu": "1" } }))).toBe(2);
    expect(podGpuRequest(pod({ containers: [{ resources: { requests: { "nvidia.com/gpu": "x" } } }] }))).toBe(
      0,
    );
    expect(
      podGpuRequest(pod({ containers: [{ resources: { requests: { "nvidia.com/gpu": "-2" } } }] })),
    ).toBe(0);
    expect(podGpuRequest(undefined)).toBe(0);
    expect(podGpuRequest({ spec: "nonsense" })).toBe(0);
  });
});
