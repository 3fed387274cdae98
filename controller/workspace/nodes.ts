import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { instanceTypeLabel, workspaceLabel, type Workspace } from "../../crds/index.ts";
import type { ExistingGpuNode } from "./placement.ts";
import { nodeLabelsFor } from "./machines.ts";

export function isNodeReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

function podGpus(pod: V1Pod): number {
  return (pod.spec?.containers ?? []).reduce(
    (sum, c) =>
      sum + Number(c.resources?.requests?.["nvidia.com/gpu"] ?? c.resources?.limits?.["nvidia.com/gpu"] ?? 0),
    0,
  );
}

/** nvidia.com/gpu requested by running or pending pods, per node, except those of `except`. */
export function gpusInUse(pods: readonly V1Pod[], except?: Workspace): Map<string, number> {
  const used = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (!node || p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
    if (
      except &&
      p.metadata?.namespace === except.metadata!.namespace &&
      p.metadata?.labels?.[workspaceLabel] === except.metadata!.name
    )
      continue;
    used.set(node, (used.get(node) ?? 0) + podGpus(p));
  }
  return used;
}

/**
 * Ready GPU nodes that carry every label the workspace selects and are no workspace's Machines or
 * NodeClaims: the nodes (brought by the user) a plan may put replicas on at no new cost. GPUs the
 * workspace's own pods hold count as free, so a plan that already uses a node keeps finding it.
 */
export function reusableNodes(
  ws: Workspace,
  nodes: readonly V1Node[],
  pods: readonly V1Pod[],
): ExistingGpuNode[] {
  const wanted = nodeLabelsFor(ws);
  const used = gpusInUse(pods, ws);
  const out: ExistingGpuNode[] = [];
  for (const n of nodes) {
    const labels = n.metadata?.labels ?? {};
    // This workspace's own Machines count too: they are kept by name whatever the plan, so
    // offering their nodes as existing ones as well would plan two replicas onto one node and
    // delete the Machine meant for the second (a manager restarted between creating the Machines
    // and storing the plan replanned once the first node was up).
    if (labels[workspaceLabel] !== undefined) continue;
    if (!Object.entries(wanted).every(([k, v]) => labels[k] === v)) continue;
    if (!isNodeReady(n) || n.spec?.unschedulable) continue;
    const allocatable = Number(n.status?.allocatable?.["nvidia.com/gpu"] ?? 0);
    const name = n.metadata!.name!;
    const freeGpus = allocatable - (used.get(name) ?? 0);
    if (freeGpus <= 0 || !labels[instanceTypeLabel]) continue;
    out.push({ name, sku: labels[instanceTypeLabel]!, labels, freeGpus });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
