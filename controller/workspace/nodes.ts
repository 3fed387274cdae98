import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { objectKey } from "../../kube/informer.ts";
import { instanceTypeLabel, workspaceLabel, type Workspace } from "../../crds/index.ts";
import { labelKey } from "../../planner/packing/index.ts";
import type { NodeLaunch } from "../nodeprovision/index.ts";
import type { ExistingGpuNode } from "./placement.ts";
import { nodeLabelsFor } from "./machines.ts";
import { podGpuRequest } from "../../kube/gpu-request.ts";
import { isNodeReady } from "../../provisioner/kube-types.ts";

const live = (p: V1Pod) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
/** `namespace/name` of the workspace a pod belongs to (the label its workload gives it). */
const podWorkspace = (p: V1Pod) => {
  const name = p.metadata?.labels?.[workspaceLabel];
  return name ? `${p.metadata?.namespace}/${name}` : undefined;
};

/** nvidia.com/gpu requested by running or pending pods, per node, except those of `except`. */
export function gpusInUse(pods: readonly V1Pod[], except?: Workspace): Map<string, number> {
  const used = new Map<string, number>();
  const skip = except && objectKey(except);
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (!node || !live(p)) continue;
    if (skip && podWorkspace(p) === skip) continue;
    used.set(node, (used.get(node) ?? 0) + podGpuRequest(p));
  }
  return used;
}

/** What reusableNodes reads of the node objects and of the other workspaces' plans. */
export interface NodeSharing {
  /** Every Machine or NodeClaim of every workspace (NodeProvisioner.launches()). */
  launches: readonly NodeLaunch[];
  /** Every Workspace (the cache): the owners' labels, and the GPUs their plans promise. */
  workspaces: readonly Workspace[];
}

/** Whether a tuning workspace's Job has finished, so its plan holds no GPUs any more. */
function finished(ws: Workspace): boolean {
  const done = ws.status?.conditions?.find((c) => c.type === "WorkspaceSucceeded");
  return !!ws.tuning && (done?.status === "True" || done?.status === "False");
}

/**
 * GPUs promised on each node to other workspaces whose stored plan names the node but whose pods
 * are not all bound yet: a plan is made once and its pods follow, so until they are bound the
 * GPUs they will take look free. A workspace's pods may land on any node of its plan (the
 * extender picks among them), so each such node keeps room for all of its pods still to come;
 * the promise is conservative, and it ends as the pods bind. Without it two plans a few seconds
 * apart would both count the same free GPUs.
 */
export function promisedGpus(
  ws: Workspace,
  sharing: NodeSharing,
  pods: readonly V1Pod[],
): Map<string, number> {
  const bound = new Map<string, number>();
  for (const p of pods) {
    const owner = podWorkspace(p);
    if (owner && p.spec?.nodeName && live(p)) bound.set(owner, (bound.get(owner) ?? 0) + podGpuRequest(p));
  }
  const nodeOf = new Map<string, string>();
  const ownNodes = new Map<string, string[]>();
  for (const l of sharing.launches) {
    if (!l.readyNode || l.deleting) continue;
    nodeOf.set(l.name, l.readyNode);
    if (l.workspace) ownNodes.set(l.workspace, [...(ownNodes.get(l.workspace) ?? []), l.readyNode]);
  }
  const me = objectKey(ws);
  const promised = new Map<string, number>();
  for (const w of sharing.workspaces) {
    const key = objectKey(w);
    const p = w.status?.placement;
    if (key === me || w.metadata?.deletionTimestamp || !p?.instanceType || finished(w)) continue;
    const wanted = (p.replicas ?? 0) * (p.nodesPerReplica ?? 1) * (p.gpusPerPod ?? 0);
    const pending = wanted - (bound.get(key) ?? 0);
    if (pending <= 0) continue;
    const planned = new Set([
      ...(p.existingNodes ?? []),
      ...(ownNodes.get(key) ?? []),
      ...(p.sharedNodes ?? []).flatMap((s) => nodeOf.get(s.name) ?? []),
    ]);
    for (const n of planned) promised.set(n, (promised.get(n) ?? 0) + pending);
  }
  return promised;
}

/**
 * Ready GPU nodes that carry every label the workspace selects, with their free GPUs: the nodes a
 * plan may put replicas on at no new cost.
 *
 * - Nodes the user brought (no `kaito.sh/workspace` label).
 * - Nodes of other workspaces' Machines or NodeClaims whose owner (the object's labels) selects
 *   exactly the same labels, so a workspace applied later (an InferenceSet's extra replica) runs
 *   next to the others where they have room. Such a node carries `shared`: a plan that uses it
 *   shares it, and its owner's deletion hands it over rather than deleting it.
 * - Never this workspace's own objects: they are kept by name whatever the plan, so offering
 *   their nodes as existing ones as well would plan two replicas onto one node and delete the
 *   object meant for the second (a manager restarted between creating the Machines and storing
 *   the plan replanned once the first node was up).
 *
 * A node is listed while it has GPUs no bound pod holds; its free GPUs are those less the GPUs
 * other workspaces' plans promise there (promisedGpus), and may be none. GPUs the workspace's own
 * pods hold, and its own plan's promise, count as free, so a plan that already uses a node keeps
 * finding it. Without `sharing`, only the user's nodes are offered and no promise is known.
 */
export function reusableNodes(
  ws: Workspace,
  nodes: readonly V1Node[],
  pods: readonly V1Pod[],
  sharing?: NodeSharing,
): ExistingGpuNode[] {
  const wanted = nodeLabelsFor(ws);
  const wantedKey = labelKey(wanted);
  const me = objectKey(ws);
  const used = gpusInUse(pods, ws);
  const promised = sharing ? promisedGpus(ws, sharing, pods) : new Map<string, number>();
  const objectOn = new Map<string, NodeLaunch>();
  for (const l of sharing?.launches ?? []) if (l.readyNode && !l.deleting) objectOn.set(l.readyNode, l);
  const workspaces = new Map((sharing?.workspaces ?? []).map((w) => [objectKey(w), w]));
  const out: ExistingGpuNode[] = [];
  for (const n of nodes) {
    const labels = n.metadata?.labels ?? {};
    if (!Object.entries(wanted).every(([k, v]) => labels[k] === v)) continue;
    if (!isNodeReady(n) || n.spec?.unschedulable) continue;
    const name = n.metadata!.name!;
    let shared: ExistingGpuNode["shared"];
    if (labels[workspaceLabel] !== undefined) {
      // A workspace's node: its owner is the object's, whatever the node's labels still say.
      const object = objectOn.get(name);
      if (!object?.workspace || object.workspace === me) continue;
      const owner = workspaces.get(object.workspace);
      if (!owner || owner.metadata?.deletionTimestamp || labelKey(nodeLabelsFor(owner)) !== wantedKey)
        continue;
      shared = { name: object.name, launchedBy: object.workspace };
    }
    const allocatable = Number(n.status?.allocatable?.["nvidia.com/gpu"] ?? 0);
    const unbound = allocatable - (used.get(name) ?? 0);
    if (unbound <= 0 || !labels[instanceTypeLabel]) continue;
    // A node whose free GPUs are all promised stays listed with none free: a stored plan that
    // uses it remains valid (the promise is conservative), and new plans put nothing on it.
    const freeGpus = Math.max(0, unbound - (promised.get(name) ?? 0));
    out.push({ name, sku: labels[instanceTypeLabel]!, labels, freeGpus, ...(shared ? { shared } : {}) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}
