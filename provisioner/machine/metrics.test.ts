import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { node } from "../fixtures.ts";
import { instanceTypeLabel, type Machine } from "../../crds/index.ts";
import type { Pod } from "../kube-types.ts";
import { gpuUsage, ProvisionerMetrics } from "./metrics.ts";
import { podGpuRequest } from "../../kube/gpu-request.ts";

const pod = (nodeName: string | undefined, gpus: string, phase = "Running", limitsOnly = false): Pod => ({
  metadata: { name: "p", namespace: "ns" },
  spec: {
    nodeName,
    containers: [
      {
        name: "c",
        resources: limitsOnly
          ? { limits: { "nvidia.com/gpu": gpus } }
          : { requests: { "nvidia.com/gpu": gpus } },
      },
    ],
  },
  status: { phase },
});

describe("GPU metrics", () => {
  it("count a pod's GPUs as the scheduler does", () => {
    expect(podGpuRequest(pod("n", "2", "Running", true))).toBe(2);
    const withInit: Pod = {
      spec: {
        containers: [{ name: "c", resources: { requests: { "nvidia.com/gpu": "1" } } }],
        initContainers: [
          { name: "warmup", resources: { requests: { "nvidia.com/gpu": "4" } } },
          { name: "sidecar", restartPolicy: "Always", resources: { requests: { "nvidia.com/gpu": "1" } } },
        ],
      },
    };
    expect(podGpuRequest(withInit)).toBe(4);
  });

  it("report allocatable and allocated GPUs per node, skipping terminated and unbound pods", () => {
    const nodes = [node({ name: "a", gpus: 4 }), node({ name: "b", gpus: 0 }), node({ name: "c", gpus: 2 })];
    const pods = [
      pod("a", "2"),
      pod("a", "1"),
      pod("a", "1", "Succeeded"),
      pod(undefined, "8"),
      pod("c", "1", "Failed"),
    ];
    expect(gpuUsage(nodes, pods)).toEqual([
      { node: "a", sku: "Standard_NC24ads_A100_v4", capacity: 4, allocated: 3 },
      { node: "c", sku: "Standard_NC24ads_A100_v4", capacity: 2, allocated: 0 },
    ]);
  });

  it("are computed at scrape time on the injected registry", async () => {
    const registry = new Registry();
    const nodes = [node({ name: "a", gpus: 1 })];
    const metrics = new ProvisionerMetrics(registry, { nodes: () => nodes, pods: () => [pod("a", "1")] });
    let text = await registry.metrics();
    expect(text).toContain('kaito_gpu_capacity{node="a",sku="Standard_NC24ads_A100_v4"} 1');
    expect(text).toContain('kaito_gpu_allocated{node="a",sku="Standard_NC24ads_A100_v4"} 1');
    nodes.length = 0;
    text = await registry.metrics();
    expect(text).not.toContain('kaito_gpu_capacity{node="a"');

    const a100: Machine = {
      metadata: { creationTimestamp: "2026-01-01T00:00:00Z" },
      spec: {
        requirements: [{ key: instanceTypeLabel, operator: "In", values: ["Standard_NC24ads_A100_v4"] }],
      },
    };
    metrics.observeProvisioning(a100);
    // The size's series exists at zero before its first Machine is Ready, so rate() sees the step.
    expect(await registry.getSingleMetricAsString("kaito_machine_provisioning_duration_seconds")).toContain(
      'kaito_machine_provisioning_duration_seconds_count{sku="Standard_NC24ads_A100_v4"} 0',
    );
    metrics.observeReady(a100, Date.UTC(2026, 0, 1, 0, 2));
    // Later passes over other provisioning Machines of the size must not reset what it counted.
    metrics.observeProvisioning(a100);
    metrics.observeReady(
      { metadata: { creationTimestamp: "2026-01-01T00:00:00Z" } },
      Date.UTC(2026, 0, 1, 0, 0, 30),
    );
    const histogram = await registry.getSingleMetricAsString("kaito_machine_provisioning_duration_seconds");
    expect(histogram).toContain(
      'kaito_machine_provisioning_duration_seconds_sum{sku="Standard_NC24ads_A100_v4"} 120',
    );
    expect(histogram).toContain('kaito_machine_provisioning_duration_seconds_sum{sku="unknown"} 30');
  });
});
