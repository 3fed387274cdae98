import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { NodeClaim } from "../../crds/index.ts";
import { ProvisionerMetrics } from "../../provisioner/index.ts";
import { observeNodeClaim } from "./metrics.ts";

const created = Date.UTC(2026, 11, 6, 12);
function claim(
  conditions: { type: string; status: "True" | "False" | "Unknown"; reason?: string }[],
): NodeClaim {
  return {
    metadata: { name: "ws0123456789", creationTimestamp: new Date(created).toISOString() },
    spec: {
      nodeClassRef: { group: "karpenter.azure.com", kind: "AKSNodeClass", name: "default" },
      requirements: [
        { key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_NC6s_v3"] },
      ],
    },
    status: { conditions },
  };
}

describe("NodeClaim provisioning metrics", () => {
  it("observe creation-to-Ready once, when Ready turns True, by size, and not again after a restart", async () => {
    const registry = new Registry();
    const metrics = new ProvisionerMetrics(registry, { nodes: () => [], pods: () => [] });
    const pending = claim([{ type: "Launched", status: "True" }]);
    const up = claim([{ type: "Ready", status: "True" }]);
    observeNodeClaim(metrics, { type: "added", object: pending }, created);
    observeNodeClaim(metrics, { type: "updated", object: up, old: pending }, created + 4_000);
    observeNodeClaim(metrics, { type: "added", object: up }, created + 60_000); // a restart's initial list
    const text = await registry.metrics();
    expect(text).toContain('kaito_machine_provisioning_duration_seconds_count{sku="Standard_NC6s_v3"} 1');
    expect(text).toContain('kaito_machine_provisioning_duration_seconds_sum{sku="Standard_NC6s_v3"} 4');
  });

  it("count a launch the claim reports as failed once, by its reason", async () => {
    const registry = new Registry();
    const metrics = new ProvisionerMetrics(registry, { nodes: () => [], pods: () => [] });
    const before = claim([{ type: "Launched", status: "Unknown" }]);
    const failed = claim([{ type: "Launched", status: "False", reason: "QuotaExceeded" }]);
    observeNodeClaim(metrics, { type: "updated", object: failed, old: before }, created);
    observeNodeClaim(metrics, { type: "updated", object: failed, old: failed }, created);
    expect(await registry.metrics()).toContain(
      'kaito_machine_provisioning_failures_total{reason="QuotaExceeded"} 1',
    );
  });
});
