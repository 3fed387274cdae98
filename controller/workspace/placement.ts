import type { SharedNode, Workspace } from "../../crds/index.ts";
import { findSku, normalizeFamily, type Sku } from "../../planner/catalog/index.ts";
import { shapeOn, type Demand, type SkuSpec } from "../../planner/packing/index.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
import {
  MAX_NODES_PER_REPLICA,
  placeWorkloads,
  type Workload,
  type WorkloadPlacement,
} from "../../planner/placement/index.ts";
import { nodeLabelsFor } from "./machines.ts";
import type { LaunchLimits, QuotaShortfall } from "./offering.ts";

/** GPU memory one replica needs, from the preset's memory model. */
export interface Requirement {
  totalGpuMemoryGiB: number;
  minGpuMemoryGiB: number;
}

/** How a workspace runs: which SKU, how many nodes, and how each replica sits on them. */
export interface Placement {
  instanceType: string;
  replicas: number;
  /** nvidia.com/gpu each pod requests. */
  gpusPerPod: number;
  /** 1, or the nodes one replica spans (a StatefulSet with one pod per node). */
  nodesPerReplica: number;
  /** New nodes (Machines) to create. */
  newNodes: number;
  /** Nodes that exist already and take replicas at no new cost. */
  existingNodes: string[];
  /**
   * Nodes (by their Machine or NodeClaim) this workspace shares with others of the same labels:
   * launched by another workspace of its batch, or another's node with free GPUs; absent when none.
   */
  sharedNodes?: SharedNode[];
  costPerHour: number;
  /**
   * Why the placement gives a named instance type a node count other than `resource.count` (one
   * sentence), so the user hears of it instead of finding fewer or more nodes than asked.
   */
  countAdjusted?: string;
}

/** A placement that cannot be made; `reason` is a condition reason, `message` one sentence. */
export class PlacementError extends Error {
  override readonly name = "PlacementError";
  readonly reason:
    | "InstanceTypeUnknown"
    | "InstanceTypeTooSmall"
    | "InstanceTypeNotOffered"
    | "QuotaExceeded"
    | "NoCapacity"
    | "NotEnoughNodes";
  constructor(reason: PlacementError["reason"], message: string) {
    super(message);
    this.reason = reason;
  }
}

export function isPlacementError(e: unknown): e is PlacementError {
  return e instanceof PlacementError || (e instanceof Error && e.name === "PlacementError");
}

/** Replicas of one workspace may span up to this many nodes (a 70B model on 1-GPU SKUs). */
const maxNodesPerReplica = MAX_NODES_PER_REPLICA;

function demandOn(ws: Workspace, req: Requirement, skus?: string[], maxNodes = maxNodesPerReplica): Demand {
  return {
    name: `${ws.metadata!.namespace}/${ws.metadata!.name}`,
    replicas: ws.resource.count ?? 1,
    totalGpuMemoryGiB: req.totalGpuMemoryGiB,
    minGpuMemoryGiB: req.minGpuMemoryGiB,
    labels: nodeLabelsFor(ws),
    maxNodesPerReplica: maxNodes,
    ...(skus ? { skus } : {}),
  };
}

/**
 * KAITO's contract when the user names the instance type: `count` nodes of it. A model that fits
 * a node runs one replica per node; one that needs several nodes runs as replicas spanning them.
 */
export function placeOnInstanceType(
  ws: Workspace,
  req: Requirement,
  sku: Sku | undefined,
  name: string,
): Placement {
  if (!sku) {
    throw new PlacementError(
      "InstanceTypeUnknown",
      `resource.instanceType ${name} is not a GPU size the catalogue knows; use one of kaito's Azure GPU sizes or leave it out to let the planner choose.`,
    );
  }
  const shape = shapeOn(demandOn(ws, req), { ...sku, name: sku.name });
  if (shape.kind === "ineligible") {
    const why =
      shape.why.code === "gpuMemory"
        ? `its GPUs have ${sku.gpuMemoryGiB} GiB but the model needs at least ${req.minGpuMemoryGiB.toFixed(1)} GiB per GPU`
        : `one replica needs ${req.totalGpuMemoryGiB.toFixed(1)} GiB of GPU memory, more than ${maxNodesPerReplica} nodes of it hold`;
    throw new PlacementError(
      "InstanceTypeTooSmall",
      `resource.instanceType ${sku.name} cannot serve this model: ${why}; choose a larger size or leave instanceType out.`,
    );
  }
  const count = ws.resource.count ?? 1;
  if (shape.kind === "single") {
    return {
      instanceType: sku.name,
      replicas: count,
      gpusPerPod: shape.gpus,
      nodesPerReplica: 1,
      newNodes: count,
      existingNodes: [],
      costPerHour: count * sku.pricePerHour,
    };
  }
  // A replica spans shape.nodes nodes: a count that is not a multiple of it is rounded down (a
  // leftover node could serve nothing), but never below one replica.
  const replicas = Math.max(1, Math.floor(count / shape.nodes));
  const nodes = replicas * shape.nodes;
  return {
    instanceType: sku.name,
    replicas,
    gpusPerPod: sku.gpus,
    nodesPerReplica: shape.nodes,
    newNodes: nodes,
    existingNodes: [],
    costPerHour: nodes * sku.pricePerHour,
    ...(nodes !== count && {
      countAdjusted:
        `resource.count ${count} is not a multiple of the ${shape.nodes} ${sku.name} nodes one replica of this model spans, ` +
        `so ${nodes} node(s) run ${replicas} replica(s); set count to a multiple of ${shape.nodes} to silence this.`,
    }),
  };
}

export interface ExistingGpuNode {
  name: string;
  sku: string;
  labels: Record<string, string>;
  freeGpus: number;
  /**
   * The Machine or NodeClaim of another workspace this node belongs to (nodes.ts): a plan that
   * uses the node shares it, and lists it in sharedNodes rather than existingNodes.
   */
  shared?: SharedNode;
}

/**
 * The placement with the existing nodes that belong to another workspace's Machine or NodeClaim
 * moved to sharedNodes, by object name: what it shares is then kept, waited for and handed over
 * as a shared node, whoever owns it.
 */
export function withSharedNodes(p: Placement, existing: readonly ExistingGpuNode[]): Placement {
  const byName = new Map(existing.map((n) => [n.name, n]));
  const shared = p.existingNodes.flatMap((n) => byName.get(n)?.shared ?? []);
  if (shared.length === 0) return p;
  return {
    ...p,
    existingNodes: p.existingNodes.filter((n) => !byName.get(n)?.shared),
    sharedNodes: [...(p.sharedNodes ?? []), ...shared],
  };
}

/**
 * The reason a named size cannot be launched here, when the cloud's reading says it is not on
 * offer: fail at once rather than launch and wait for the cloud to refuse.
 */
export function notOfferedError(name: string, limits: LaunchLimits): PlacementError {
  const where = limits.region ? ` in ${limits.region}` : "";
  return new PlacementError(
    "InstanceTypeNotOffered",
    `resource.instanceType ${name} is not offered to this subscription${where}; choose another size or leave instanceType out to let the planner choose.`,
  );
}

/**
 * The reason a named size cannot be launched now: its family's vCPU quota, as the cloud last
 * reported it, is too small for the new nodes. Failing here saves a launch the cloud would refuse.
 */
export function quotaExceededError(
  name: string,
  nodes: number,
  shortfall: QuotaShortfall,
  limits: LaunchLimits,
): PlacementError {
  const where = limits.region ? ` in ${limits.region}` : "";
  return new PlacementError(
    "QuotaExceeded",
    `resource.instanceType ${name} needs ${shortfall.neededVcpus} vCPUs of the ${shortfall.family} quota for ${nodes} new node(s) but only ${shortfall.freeVcpus} are free${where}; raise that quota or leave instanceType out to let the planner choose.`,
  );
}

/**
 * byo: the replicas that do not fit on the Ready GPU nodes matching the labelSelector, and the GPUs
 * they lack, in one sentence (the workspace is planned again when a node changes).
 */
export function notEnoughNodesError(
  ws: Workspace,
  missingReplicas: number,
  gpusPerReplica: number,
  candidates: readonly ExistingGpuNode[],
  multiNode = false,
): PlacementError {
  const selector = Object.entries(nodeLabelsFor(ws))
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  const free = candidates.reduce((sum, n) => sum + n.freeGpus, 0);
  const size = ws.resource.instanceType ? ` ${ws.resource.instanceType}` : "";
  const what = multiNode
    ? `one replica of this model spans several${size} nodes, which bring-your-own nodes cannot run`
    : `${missingReplicas} replica(s) of ${gpusPerReplica} GPU(s) do not fit: ${missingReplicas * gpusPerReplica} GPU(s) missing`;
  return new PlacementError(
    "NotEnoughNodes",
    `${what} on the Ready${size} GPU nodes labelled ${selector || "(any)"} (${candidates.length} node(s), ${free} free GPU(s)); add or label GPU nodes and the workspace is planned again.`,
  );
}

/** byo: the SKU of an existing node, from the catalogue or else its GPU feature discovery labels. */
function existingNodeSku(node: ExistingGpuNode): SkuSpec | undefined {
  const known = findSku(node.sku);
  if (known) return { ...toSkuSpec(known), name: node.sku };
  const gpus = Number(node.labels["nvidia.com/gpu.count"] ?? 0);
  const memoryMiB = Number(node.labels["nvidia.com/gpu.memory"] ?? 0);
  if (!(gpus > 0 && memoryMiB > 0)) return undefined;
  return {
    name: node.sku,
    gpus,
    gpuMemoryGiB: memoryMiB / 1024,
    vcpus: 1, // any: the family has no quota, so no node of it is ever added
    family: `byo-${node.sku}`,
    pricePerHour: 0,
  };
}

/**
 * The planning problem's quota for the catalogue's families, from the limits keyed by the cloud's
 * spelling of each size's family (which may differ from the catalogue's).
 */
function plannerQuota(skus: readonly Sku[], limits: LaunchLimits | undefined): Record<string, number> {
  const quota: Record<string, number> = {};
  if (!limits) return quota;
  for (const sku of skus) {
    const family = limits.familyOf.get(sku.name.toLowerCase()) ?? sku.family;
    const headroom = limits.quota.get(normalizeFamily(family));
    if (headroom !== undefined) quota[sku.family] = Math.min(quota[sku.family] ?? headroom, headroom);
  }
  return quota;
}

/** What a plan may use: the sizes and the vCPU quota new nodes may take, or existing nodes only. */
export interface PlanningContext {
  skus: SkuSpec[];
  quota: Record<string, number>;
  /** byo: nothing new is launched; `skus` are the existing nodes' sizes. */
  existingOnly?: boolean;
}

/**
 * byo: the existing nodes' sizes (from the catalogue, or else their GPU feature discovery labels)
 * are the catalogue, and nothing new may be launched. Throws NotEnoughNodes when no node's size is
 * known, with the GPUs one replica would take on a 24 GiB GPU.
 */
export function existingOnlyContext(
  ws: Workspace,
  req: Requirement,
  existing: readonly ExistingGpuNode[],
): PlanningContext {
  const skus = [
    ...new Map(
      existing.flatMap((n) => {
        const sku = existingNodeSku(n);
        return sku ? [[n.sku, sku] as const] : [];
      }),
    ).values(),
  ];
  if (skus.length === 0)
    throw notEnoughNodesError(ws, ws.resource.count ?? 1, gpusFor(req, [{ gpuMemoryGiB: 24 }]), existing);
  return { skus, quota: {}, existingOnly: true };
}

/** The fewest GPUs (a power of two) one replica takes on the GPUs of any of `skus`. */
function gpusFor(req: Requirement, skus: readonly { gpuMemoryGiB: number }[]): number {
  return Math.min(
    ...skus.map((s) => {
      let k = 1;
      while (k * s.gpuMemoryGiB < req.totalGpuMemoryGiB) k *= 2;
      return k;
    }),
  );
}

/**
 * The error for a workspace the placement policy could not place: byo says how many replicas and
 * GPUs are missing on its nodes (NotEnoughNodes); otherwise the policy's reason (NoCapacity).
 */
export function placementFailure(
  ws: Workspace,
  req: Requirement,
  failure: { reason: string; unplaced?: number },
  context: PlanningContext,
  existing: readonly ExistingGpuNode[],
): PlacementError {
  if (!context.existingOnly) return new PlacementError("NoCapacity", failure.reason);
  const usable = existing.filter((n) => context.skus.some((s) => s.name === n.sku));
  return notEnoughNodesError(
    ws,
    failure.unplaced ?? ws.resource.count ?? 1,
    gpusFor(req, context.skus),
    usable,
  );
}

/**
 * What the planner may use for `ws`: the catalogue's sizes on offer (all of them when nothing is
 * known of the cloud), less `excluded` (sizes that failed to launch for it), and the vCPU quota
 * the cloud's reading leaves. Throws NoCapacity when no size is left.
 */
export async function planningContext(
  planner: PlannerClient,
  excluded: readonly string[],
  limits?: LaunchLimits,
): Promise<PlanningContext> {
  const catalog = (await planner.catalog()).filter((s) => !s.retired);
  const offered = limits ? catalog.filter((s) => limits.offered.has(s.name.toLowerCase())) : catalog;
  if (offered.length === 0 && limits) {
    const where = limits.region ? ` in ${limits.region}` : "";
    throw new PlacementError(
      "NoCapacity",
      `none of the catalogue's GPU sizes is offered to this subscription${where}; ask for access to GPU sizes there or run in another region.`,
    );
  }
  const usable = offered.filter((s) => !excluded.some((x) => x.toLowerCase() === s.name.toLowerCase()));
  if (usable.length === 0)
    throw new PlacementError(
      "NoCapacity",
      "every GPU size on offer failed to launch; check the cloud's quota and capacity.",
    );
  return { skus: usable.map(toSkuSpec), quota: plannerQuota(usable, limits) };
}

function toSkuSpec(s: Sku): SkuSpec {
  return {
    name: s.name,
    gpus: s.gpus,
    gpuMemoryGiB: s.gpuMemoryGiB,
    vcpus: s.vcpus,
    family: s.family,
    pricePerHour: s.pricePerHour,
  };
}

/** The workload the placement policy sees for `ws`. */
export function workloadOf(ws: Workspace, req: Requirement, skus: readonly SkuSpec[]): Workload {
  return {
    name: `${ws.metadata!.namespace}/${ws.metadata!.name}`,
    replicas: ws.resource.count ?? 1,
    totalGpuMemoryGiB: req.totalGpuMemoryGiB,
    minGpuMemoryGiB: req.minGpuMemoryGiB,
    labels: nodeLabelsFor(ws),
    skus: skus.map((s) => s.name),
  };
}

/** The controller's Placement of a workload the policy placed on its own (no shared nodes). */
export function fromPolicy(p: WorkloadPlacement): Placement {
  return {
    instanceType: p.instanceType,
    replicas: p.replicas,
    gpusPerPod: p.gpusPerPod,
    nodesPerReplica: p.nodesPerReplica,
    newNodes: p.newNodes.length,
    existingNodes: p.existingNodes,
    costPerHour: p.costPerHour,
  };
}

/**
 * The cheapest way to run `count` replicas by kaito's placement policy (planner/placement):
 * free GPUs on existing nodes that carry the workspace's labels first, then new nodes of the
 * cheapest fitting size on offer, within the quota, never one of `excluded`; one size for every
 * replica, a replica across nodes only when no size holds it. Without `limits` (nothing known of
 * the cloud) every catalogue size is allowed and no quota applies. With `existingOnly` (byo)
 * nothing new is launched: what does not fit on `existing` is a NotEnoughNodes error.
 */
export async function placeWithPlanner(
  ws: Workspace,
  req: Requirement,
  planner: PlannerClient,
  existing: ExistingGpuNode[],
  excluded: readonly string[],
  signal?: AbortSignal,
  limits?: LaunchLimits,
  existingOnly = false,
): Promise<Placement> {
  const context = existingOnly
    ? existingOnlyContext(ws, req, existing)
    : await planningContext(planner, excluded, limits);
  const batch = await placeWorkloads(
    [workloadOf(ws, req, context.skus)],
    {
      catalog: context.skus,
      quota: context.quota,
      nodes: existing.map(problemNode),
      existingOnly: context.existingOnly,
    },
    (problem) => planner.plan(problem, { signal }),
  );
  const outcome = batch.outcomes[0]!;
  if ("failure" in outcome) throw placementFailure(ws, req, outcome.failure, context, existing);
  return withSharedNodes(fromPolicy(outcome.placement), existing);
}

/** An existing node as the planner's problem carries it (nothing else goes over the wire). */
export function problemNode(n: ExistingGpuNode): ExistingGpuNode {
  return { name: n.name, sku: n.sku, labels: n.labels, freeGpus: n.freeGpus };
}

export { findSku };
