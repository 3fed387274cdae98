import type { Workspace } from "../../crds/index.ts";
import { findSku, normalizeFamily, type Sku } from "../../planner/catalog/index.ts";
import { shapeOn, type Demand } from "../../planner/packing/index.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
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
const maxNodesPerReplica = 8;

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
function existingNodeSku(node: ExistingGpuNode): SkuSpecInput | undefined {
  const known = findSku(node.sku);
  if (known) return { ...known, name: node.sku };
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

type SkuSpecInput = Pick<Sku, "name" | "gpus" | "gpuMemoryGiB" | "vcpus" | "family" | "pricePerHour">;

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

/**
 * Asks the planner for the cheapest way to run `count` replicas: free GPUs on existing nodes that
 * carry the workspace's labels first, then new nodes of the cheapest fitting SKU that the cloud
 * offers, within its quota, never one of `excluded`. A workload's pods all request the same GPUs,
 * so a plan that mixes SKUs is asked again restricted to its most used one. Without `limits`
 * (nothing known of the cloud) every catalogue size is allowed and no quota applies.
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
  if (existingOnly) return placeOnExisting(ws, req, planner, existing, signal);
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
  const allowed = usable.map((s) => s.name);
  if (allowed.length === 0)
    throw new PlacementError(
      "NoCapacity",
      "every GPU size on offer failed to launch; check the cloud's quota and capacity.",
    );
  const quota = plannerQuota(usable, limits);
  let skus = allowed;
  for (let attempt = 0; attempt < 2; attempt++) {
    // A replica split over nodes talks over the network on every token: only when no size holds
    // it on one node is a multi-node replica worth its price.
    let plan = await planner.plan(
      { quota, nodes: existing, demands: [demandOn(ws, req, skus, 1)] },
      { signal },
    );
    if (plan.unplaced.length > 0) {
      plan = await planner.plan({ quota, nodes: existing, demands: [demandOn(ws, req, skus)] }, { signal });
    }
    if (plan.unplaced.length > 0) throw new PlacementError("NoCapacity", plan.unplaced[0]!.reason);
    const newSkus = new Map<string, number>();
    for (const n of plan.newNodes) newSkus.set(n.sku, (newSkus.get(n.sku) ?? 0) + 1);
    const existingUsed = [
      ...new Set(plan.placements.map((p) => p.node).filter((n) => existing.some((e) => e.name === n))),
    ];
    const gpusPerPod = Math.max(...plan.placements.map((p) => p.gpus));
    const replicaNodes = new Map<number, number>();
    for (const p of plan.placements) replicaNodes.set(p.replica, (replicaNodes.get(p.replica) ?? 0) + 1);
    const nodesPerReplica = Math.max(...replicaNodes.values());
    const dominant = [...newSkus.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const fits = existingUsed.every((n) => existing.find((e) => e.name === n)!.freeGpus >= gpusPerPod);
    if (newSkus.size <= 1 && fits) {
      const instanceType = dominant ?? existing.find((e) => e.name === existingUsed[0])?.sku ?? "";
      return {
        instanceType,
        replicas: replicaNodes.size,
        gpusPerPod,
        nodesPerReplica,
        newNodes: plan.newNodes.length,
        existingNodes: existingUsed,
        costPerHour: plan.costPerHour,
      };
    }
    // Mixed shapes: one SKU, no reuse of nodes whose free GPUs differ.
    skus = dominant ? [dominant] : skus;
    existing = fits ? existing : [];
  }
  throw new PlacementError(
    "NoCapacity",
    "the planner could not find a placement with one GPU size for every replica.",
  );
}

/**
 * byo: the planner's problem with no new nodes allowed. The catalogue is the existing nodes'
 * sizes and every family's quota is zero, so it places replicas on the nodes' free GPUs only.
 */
async function placeOnExisting(
  ws: Workspace,
  req: Requirement,
  planner: PlannerClient,
  existing: ExistingGpuNode[],
  signal?: AbortSignal,
): Promise<Placement> {
  const usable = existing.filter((n) => existingNodeSku(n));
  const catalog = [...new Map(usable.map((n) => [n.sku, existingNodeSku(n)!])).values()];
  const replicas = ws.resource.count ?? 1;
  const smallest = (gpuMemoryGiB: number) => {
    let k = 1;
    while (k * gpuMemoryGiB < req.totalGpuMemoryGiB) k *= 2;
    return k;
  };
  const gpusWanted = catalog.length
    ? Math.min(...catalog.map((s) => smallest(s.gpuMemoryGiB)))
    : smallest(24);
  if (catalog.length === 0) throw notEnoughNodesError(ws, replicas, gpusWanted, existing);
  const quota = Object.fromEntries(catalog.map((s) => [s.family, 0]));
  const plan = await planner.plan(
    { catalog, quota, nodes: usable, demands: [demandOn(ws, req, undefined, 1)] },
    { signal },
  );
  if (plan.unplaced.length > 0 || plan.newNodes.length > 0)
    throw notEnoughNodesError(ws, plan.unplaced.length || replicas, gpusWanted, usable);
  const gpusPerPod = Math.max(...plan.placements.map((p) => p.gpus));
  const nodes = [...new Set(plan.placements.map((p) => p.node))];
  const sizes = new Set(nodes.map((n) => usable.find((e) => e.name === n)!.sku));
  // A workload's pods all request the same GPUs: a plan that mixes shapes is not one we can run.
  if (sizes.size > 1 && plan.placements.some((p) => p.gpus !== gpusPerPod))
    throw notEnoughNodesError(ws, replicas, gpusPerPod, usable);
  return {
    instanceType: usable.find((e) => e.name === nodes[0])!.sku,
    replicas: plan.placements.length,
    gpusPerPod,
    nodesPerReplica: 1,
    newNodes: 0,
    existingNodes: nodes.sort(),
    costPerHour: 0,
  };
}

export { findSku };
