import type { Machine, NodeClaim } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { findCondition, type Condition } from "../../kube/conditions.ts";
import type { InformerEvent } from "../../kube/informer.ts";
import { gpuPodScope, nodeScope } from "../../kube/caches.ts";
import { resources as api } from "../../kube/resources.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { ProvisionerMetrics } from "../../provisioner/index.ts";
import type { Node, Pod } from "../../provisioner/index.ts";
import { ownedSelector } from "./labels.ts";
import type { NodeProvisionerMode } from "./types.ts";

const ready = (nc: NodeClaim) =>
  findCondition(nc.status?.conditions as Condition[] | undefined, "Ready")?.status === "True";
const launched = (nc: NodeClaim) =>
  findCondition(nc.status?.conditions as Condition[] | undefined, "Launched");

/**
 * What the builtin provisioner's metrics say, for the modes where Karpenter, gpu-provisioner or the
 * user makes the nodes: kaito_gpu_capacity and kaito_gpu_allocated from the nodes and pods, and
 * for NodeClaims kaito_machine_provisioning_duration_seconds (creation to Ready, observed when Ready
 * turns True) and kaito_machine_provisioning_failures_total (a claim's Launched turning False). A
 * launch Karpenter refuses by deleting the claim is counted by the Workspace controller's
 * InstanceTypeUnavailable event, not here.
 */
export function registerNodeMetrics(
  manager: Manager,
  mode: Exclude<NodeProvisionerMode, "builtin">,
): ProvisionerMetrics {
  const nodes = manager.informer<Node & KubeObject>(api.nodes, nodeScope);
  const pods = manager.informer<Pod & KubeObject>(api.pods, gpuPodScope);
  const metrics = new ProvisionerMetrics(manager.registry, {
    nodes: () => nodes.list(),
    pods: () => pods.list(),
  });
  if (mode === "byo") return metrics;
  const claims = manager.informer<NodeClaim & KubeObject>(api.nodeClaims, { labelSelector: ownedSelector });
  claims.on((e) => observeNodeClaim(metrics, e, manager.clock.now()));
  return metrics;
}

/** One informer event's worth of provisioning metrics (the Machine and NodeClaim share the fields read). */
export function observeNodeClaim(
  metrics: ProvisionerMetrics,
  e: InformerEvent<NodeClaim>,
  nowMs: number,
): void {
  if (e.type === "deleted") return;
  const asMachine = e.object as Machine;
  if (!ready(e.object)) metrics.observeProvisioning(asMachine);
  if (e.type !== "updated") return; // the initial list is not news: a restart must not count again
  if (ready(e.object) && !ready(e.old)) metrics.observeReady(asMachine, nowMs);
  const now = launched(e.object);
  if (now?.status === "False" && launched(e.old)?.status !== "False")
    metrics.observeFailure(now.reason ?? "LaunchFailed");
}
