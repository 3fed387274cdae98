import type { SharedNode, Workspace, WorkspacePlacement } from "../../crds/index.ts";
import { objectKey } from "../../kube/informer.ts";
import { findSku } from "../../planner/catalog/index.ts";
import { shapeOn } from "../../planner/packing/index.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
import type { OfferingSource } from "../../provisioner/index.ts";
import { nodeObjectName, type NodeLaunch } from "../nodeprovision/index.ts";
import { nodeLabelsFor } from "./machines.ts";
import { isOffered, launchLimits, quotaShortfall, type LaunchLimits } from "./offering.ts";
import {
  notOfferedError,
  notEnoughNodesError,
  PlacementError,
  quotaExceededError,
  placeOnInstanceType,
  placeWithPlanner,
  withSharedNodes,
  type ExistingGpuNode,
  type Placement,
} from "./placement.ts";
import { requirementOn, type ModelNeed } from "./requirement.ts";
import type { PlacementBatcher } from "./batch.ts";

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The user named the instance type: `count` nodes of it, of which ready preferredNodes of that
 * type with the workspace's labels stand in for new ones (KAITO's bring-your-own nodes).
 */
function onInstanceType(
  ws: Workspace,
  need: ModelNeed,
  existing: ExistingGpuNode[],
  existingOnly: boolean,
): Placement {
  const name = ws.resource.instanceType!;
  const sku = findSku(name);
  const placement = placeOnInstanceType(ws, requirementOn(need, sku?.gpuMemoryGiB ?? 0), sku, name);
  if (placement.nodesPerReplica > 1) {
    if (existingOnly) throw notEnoughNodesError(ws, placement.replicas, placement.gpusPerPod, existing, true);
    return placement;
  }
  const preferred = new Set(ws.resource.preferredNodes ?? []);
  // byo: any Ready node of the size that carries the labels will do, preferred ones first.
  const reuse = existing
    .filter(
      (n) =>
        (existingOnly || preferred.has(n.name)) &&
        sameName(n.sku, placement.instanceType) &&
        n.freeGpus >= placement.gpusPerPod,
    )
    .sort((a, b) => Number(preferred.has(b.name)) - Number(preferred.has(a.name)))
    .slice(0, placement.newNodes)
    .map((n) => n.name);
  const newNodes = placement.newNodes - reuse.length;
  if (existingOnly && newNodes > 0)
    throw notEnoughNodesError(
      ws,
      newNodes,
      placement.gpusPerPod,
      existing.filter((n) => sameName(n.sku, placement.instanceType)),
    );
  return withSharedNodes(
    { ...placement, newNodes, existingNodes: reuse, costPerHour: newNodes * (sku?.pricePerHour ?? 0) },
    existing,
  );
}

function fromStatus(p: WorkspacePlacement, cost: string | undefined): Placement {
  return {
    instanceType: p.instanceType ?? "",
    replicas: p.replicas ?? 0,
    gpusPerPod: p.gpusPerPod ?? 1,
    nodesPerReplica: p.nodesPerReplica ?? 1,
    newNodes: p.newNodes ?? 0,
    existingNodes: p.existingNodes ?? [],
    ...(p.sharedNodes?.length ? { sharedNodes: p.sharedNodes } : {}),
    costPerHour: Number(cost ?? 0),
  };
}

/**
 * A shared node holds while its Machine or NodeClaim exists and is not being deleted, whoever owns
 * it now, or while the workspace that was to launch it still is to (in its stored plan, or in a
 * plan the batcher has made and not yet handed over). Gone otherwise: its launcher was deleted or
 * replanned before launching it.
 */
function sharedStillThere(shared: SharedNode, inputs: PlacementInputs): boolean {
  const launch = inputs.launches.find((l) => l.name === shared.name);
  if (launch) return !launch.deleting;
  if (inputs.batcher?.willLaunch(shared.launchedBy, shared.name)) return true;
  const host = inputs.workspace?.(shared.launchedBy);
  const p = host?.status?.placement;
  if (!host || host.metadata?.deletionTimestamp || !p?.instanceType) return false;
  return Array.from({ length: p.newNodes ?? 0 }, (_, i) => nodeObjectName(host, p.instanceType!, i)).includes(
    shared.name,
  );
}

/**
 * A stored plan holds while its SKU has not failed, the existing nodes it uses are still usable,
 * and it still gives each pod the same GPUs.
 */
function stillValid(
  ws: Workspace,
  need: ModelNeed,
  p: Placement,
  existing: readonly ExistingGpuNode[],
): boolean {
  if ((ws.status?.failedInstanceTypes ?? []).some((f) => sameName(f, p.instanceType))) return false;
  if (!p.existingNodes.every((n) => existing.some((e) => e.name === n))) return false;
  if (p.replicas !== (ws.resource.count ?? 1) && p.nodesPerReplica === 1) return false;
  const sku = findSku(p.instanceType);
  if (!sku || need.kind !== "preset") return !!sku;
  const shape = shapeOn(
    {
      name: "check",
      replicas: 1,
      labels: nodeLabelsFor(ws),
      maxNodesPerReplica: 8,
      totalGpuMemoryGiB: need.requirement.totalGpuMemoryGiB,
      minGpuMemoryGiB: need.requirement.minGpuMemoryGiB,
    },
    sku,
  );
  return shape.kind !== "ineligible" && Math.min(shape.gpus, sku.gpus) === p.gpusPerPod;
}

/** What deciding a placement reads besides the workspace. */
export interface PlacementInputs {
  planner: PlannerClient;
  /** GPU nodes whose free GPUs a plan may use. */
  existing: ExistingGpuNode[];
  /** Every launch of every workspace (Machines or NodeClaims): what they hold of the quota. */
  launches: readonly NodeLaunch[];
  /** byo: no new nodes; replicas go on existing nodes or are reported as not fitting. */
  existingOnly?: boolean;
  /** What the cloud can launch now; absent when the cloud is not known here (remote provisioner). */
  offering?: OfferingSource;
  signal: AbortSignal;
  /** Plans the workspaces that arrive together as one problem; absent, each is planned alone. */
  batcher?: PlacementBatcher;
  /** A Workspace by namespace/name, from the cache: the launcher of a shared node. */
  workspace?: (key: string) => Workspace | undefined;
}

async function limitsFor(ws: Workspace, inputs: PlacementInputs): Promise<LaunchLimits | undefined> {
  const reading = await inputs.offering?.current(inputs.signal);
  return reading && launchLimits(reading, ws, inputs.launches);
}

/**
 * Decides the placement. With resource.instanceType it follows from the spec on every pass; the
 * planner's choice is made once and kept in status.placement until it stops being valid, so a
 * workload never moves because another plan became a cent cheaper. With a batcher the choice
 * waits for the workspaces that arrive with it ({ pendingMs }: the batcher requeues it), except
 * with existingOnly (byo).
 */
export async function placementDecision(
  ws: Workspace,
  need: ModelNeed,
  inputs: PlacementInputs,
): Promise<{ placement: Placement; replanned: boolean } | { pendingMs: number }> {
  if (ws.resource.instanceType) {
    const placement = onInstanceType(ws, need, inputs.existing, inputs.existingOnly ?? false);
    // Only a launch still to come is checked: Machines that have one are the cloud's to judge,
    // and a size withdrawn after its nodes came up must not fail a running workspace.
    const key = objectKey(ws);
    const launching = inputs.launches.some(
      (m) => m.workspace === key && !m.deleting && sameName(m.instanceType, placement.instanceType),
    );
    if (placement.newNodes > 0 && !launching) {
      const limits = await limitsFor(ws, inputs);
      if (limits && !isOffered(limits, placement.instanceType))
        throw notOfferedError(placement.instanceType, limits);
      const shortfall = quotaShortfall(limits, placement.instanceType, placement.newNodes);
      if (limits && shortfall)
        throw quotaExceededError(placement.instanceType, placement.newNodes, shortfall, limits);
    }
    return { placement, replanned: false };
  }
  const stored = ws.status?.placement;
  if (stored?.instanceType) {
    const placement = fromStatus(stored, ws.status?.costPerHour);
    const shared = (placement.sharedNodes ?? []).every((s) => sharedStillThere(s, inputs));
    if (shared && stillValid(ws, need, placement, inputs.existing)) return { placement, replanned: false };
  }
  if (need.kind !== "preset") {
    throw new PlacementError(
      "InstanceTypeUnknown",
      "a workspace with a custom inference.template has no model to size; set resource.instanceType.",
    );
  }
  const excluded = ws.status?.failedInstanceTypes ?? [];
  const limits = await limitsFor(ws, inputs);
  // byo launches nothing, so there is nothing to share by planning together: its workspaces are
  // placed at once, and a node that changes is reflected in the next reconcile.
  if (inputs.batcher && !inputs.existingOnly) {
    const answer = inputs.batcher.request({
      ws,
      req: need.requirement,
      existing: inputs.existing,
      excluded,
      limits,
    });
    if (answer.kind === "wait") return { pendingMs: answer.ms };
    if (answer.kind === "failed") throw answer.error;
    return { placement: answer.placement, replanned: true };
  }
  const placement = await placeWithPlanner(
    ws,
    need.requirement,
    inputs.planner,
    inputs.existing,
    excluded,
    inputs.signal,
    limits,
    inputs.existingOnly ?? false,
  );
  return { placement, replanned: true };
}

/** placementDecision without a batcher, which is never pending. */
export async function decidePlacement(
  ws: Workspace,
  need: ModelNeed,
  inputs: Omit<PlacementInputs, "batcher">,
): Promise<{ placement: Placement; replanned: boolean }> {
  const d = await placementDecision(ws, need, inputs);
  if ("pendingMs" in d) throw new Error("internal: a placement without a batcher cannot be pending");
  return d;
}
