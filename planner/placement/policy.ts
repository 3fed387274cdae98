import type { Demand, ExistingNode, NewNode, Plan, SkuSpec } from "../packing/types.ts";
import type {
  BatchPlacement,
  PlacementContext,
  PlacementFailure,
  PlanFn,
  Workload,
  WorkloadOutcome,
  WorkloadPlacement,
} from "./types.ts";

/**
 * How kaito places workloads on the planner's choice of nodes: the one policy that the
 * Workspace controller, the capacity simulator and `kaito plan -f` share.
 *
 * - A replica spans several nodes only when no size holds it on one: it then talks over the
 *   network on every token, so a multi-node replica is worth its price only when it must.
 * - A workload's pods all request the same GPUs (one Deployment), so its new nodes are of one
 *   size, and an existing node it uses must have room for that many GPUs. A plan that mixes
 *   sizes is asked again for the size it used most, without the existing nodes that lack room.
 * - Workloads that arrive together are planned together, so replicas of several workloads with
 *   the same labels may share a new node (the planner exists for that). A workload whose part
 *   of the joint plan breaks the rules above is placed on its own afterwards, against what the
 *   others left: their nodes' free GPUs, the quota they did not take.
 *
 * A new node shared in a batch is launched by its host, the first workload (in the order
 * given) with a replica on it; the others list it in `sharedNodes`.
 */
export async function placeWorkloads(
  workloads: readonly Workload[],
  context: PlacementContext,
  plan: PlanFn,
): Promise<BatchPlacement> {
  const state = new Residual(context);
  const outcomes = new Map<string, WorkloadOutcome>();
  let rest = [...workloads];
  if (workloads.length > 1) {
    const joint = await plan(state.problem(workloads.map((w) => demandOf(w, w.skus, 1))));
    const accepted = workloads.filter((w) => readPlacement(w, joint, state) !== undefined);
    for (const outcome of state.commit(accepted, joint)) outcomes.set(outcome.workload, outcome);
    rest = workloads.filter((w) => !outcomes.has(w.name));
  }
  for (const w of rest) {
    const alone = await placeAlone(w, state, plan);
    if ("failure" in alone) outcomes.set(w.name, { workload: w.name, failure: alone.failure });
    else for (const outcome of state.commit([w], alone.plan)) outcomes.set(outcome.workload, outcome);
  }
  return {
    outcomes: workloads.map((w) => outcomes.get(w.name)!),
    newNodes: state.launched,
    costPerHour: state.cost(),
  };
}

/**
 * Without the quota's full size, a family counts as short when what it has left is less than
 * this many of its largest nodes: a quota that holds a handful of nodes runs out with the next
 * burst.
 */
const SCARCE_NODES = 8;

/**
 * The catalogue with scarce quota priced in, for the planner's choice only (the placements'
 * costs stay the list prices). A plan made one workload at a time is myopic about quota: it
 * takes the cheapest size now, whatever that leaves the replicas that come next, and a family
 * whose vCPUs buy the most GPU memory (four T4s' 64 GiB for 16 vCPUs on one size) then runs dry
 * for the replicas that have no other home (simulations/README.md, the quota scenario).
 *
 * So a vCPU of a family costs: scarcity × the catalogue's median price per vCPU × how much GPU
 * memory a vCPU of the family buys at best, relative to the median family. Scarcity is the share
 * of the family's quota in use (1 − left / limit) or, where the limit is not known, 1 − left /
 * (SCARCE_NODES of its largest nodes): from 0 (plenty) to 1 (none left). Equally short, the
 * families whose vCPUs are worth more are spent last, on the replicas that need them.
 * Undefined when no family is short.
 */
export function quotaPriced(
  catalog: readonly SkuSpec[],
  left: Readonly<Record<string, number>>,
  limits: Readonly<Record<string, number>> = {},
): SkuSpec[] | undefined {
  const perVcpu = catalog.filter((s) => s.vcpus > 0).map((s) => s.pricePerHour / s.vcpus);
  if (perVcpu.length === 0) return undefined;
  const scale = perVcpu.sort((a, b) => a - b)[Math.floor(perVcpu.length / 2)]!;
  // What a vCPU of a family buys at best: GPU memory per vCPU of its densest size.
  const density = (sizes: readonly SkuSpec[]) =>
    Math.max(...sizes.map((s) => (s.gpus * s.gpuMemoryGiB) / s.vcpus));
  const families = [...new Set(catalog.filter((s) => s.vcpus > 0).map((s) => s.family))];
  const densities = families.map((f) => density(catalog.filter((s) => s.family === f && s.vcpus > 0)));
  const typical = [...densities].sort((a, b) => a - b)[Math.floor(densities.length / 2)]!;
  const weight = new Map<string, number>();
  for (const [family, headroom] of Object.entries(left)) {
    const sizes = catalog.filter((s) => s.family === family && s.vcpus > 0);
    if (sizes.length === 0) continue;
    const whole = limits[family] ?? SCARCE_NODES * Math.max(...sizes.map((s) => s.vcpus));
    const scarcity = whole > 0 ? Math.min(1, Math.max(0, 1 - headroom / whole)) : 1;
    if (scarcity > 0) weight.set(family, scarcity * scale * (density(sizes) / typical));
  }
  if (weight.size === 0) return undefined;
  return catalog.map((s) => ({ ...s, pricePerHour: s.pricePerHour + (weight.get(s.family) ?? 0) * s.vcpus }));
}

/** Replicas may span up to this many nodes when no size holds one on a single node. */
export const MAX_NODES_PER_REPLICA = 8;

function demandOf(w: Workload, skus: readonly string[], maxNodesPerReplica: number): Demand {
  return {
    name: w.name,
    replicas: w.replicas,
    totalGpuMemoryGiB: w.totalGpuMemoryGiB,
    minGpuMemoryGiB: w.minGpuMemoryGiB,
    labels: w.labels,
    maxNodesPerReplica,
    skus: [...skus],
  };
}

/** One workload against what is left: single-node replicas first, then spanning, then one size. */
async function placeAlone(
  w: Workload,
  state: Residual,
  planFn: PlanFn,
): Promise<{ plan: Plan } | { failure: PlacementFailure }> {
  let skus = w.skus;
  let withNodes = true;
  let onlySku: string | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    const problem = (maxNodes: number) => {
      const p = state.problem([demandOf(w, skus, maxNodes)]);
      if (!withNodes) return { ...p, nodes: [] };
      return onlySku ? { ...p, nodes: p.nodes.filter((n) => n.sku === onlySku) } : p;
    };
    let plan = await planFn(problem(1));
    if (plan.unplaced.length > 0) plan = await planFn(problem(MAX_NODES_PER_REPLICA));
    const missing = plan.unplaced[0];
    if (missing && state.existingOnly) {
      return {
        failure: {
          code: "NoRoom",
          reason: `no ready GPU node with the workspace's labels has room for replica ${missing.replica + 1} of ${w.replicas}, and new nodes are not launched here (bring your own nodes).`,
          unplaced: new Set(plan.unplaced.filter((u) => u.demand === w.name).map((u) => u.replica)).size,
        },
      };
    }
    if (missing) return { failure: { code: missing.code, reason: missing.reason } };
    if (readPlacement(w, plan, state)) return { plan };
    // Mixed sizes: the size that hosts most of its replicas, new or existing, and existing
    // nodes only of that size (where its pods take as many GPUs) and with room.
    const skuOf = new Map(plan.newNodes.map((n) => [n.name, n.sku]));
    const bySku = new Map<string, number>();
    for (const p of plan.placements) {
      const sku = skuOf.get(p.node) ?? state.node(p.node)?.sku;
      if (p.demand === w.name && sku) bySku.set(sku, (bySku.get(sku) ?? 0) + 1);
    }
    const dominant = [...bySku].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
    if (dominant) skus = [dominant];
    onlySku = dominant;
    withNodes = withNodes && existingFit(w, plan, state);
  }
  return {
    failure: {
      code: "MixedSizes",
      reason: "the planner could not find a placement with one GPU size for every replica.",
    },
  };
}

/**
 * Whether the existing nodes `w` uses in `plan` have room for its pods, each of which requests
 * the most GPUs any of its replicas needs (one Deployment, one request), whatever the plan gave
 * it on a node of another size.
 */
function existingFit(w: Workload, plan: Plan, state: Residual): boolean {
  const mine = plan.placements.filter((p) => p.demand === w.name);
  const gpusPerPod = Math.max(...mine.map((p) => p.gpus));
  const pods = new Map<string, number>();
  for (const p of mine) if (state.node(p.node)) pods.set(p.node, (pods.get(p.node) ?? 0) + 1);
  return [...pods].every(([name, count]) => state.node(name)!.freeGpus >= count * gpusPerPod);
}

/**
 * `w`'s placement in `plan`, or undefined when the plan breaks the policy for it: a replica
 * unplaced, new nodes of more than one size, or an existing node without room for its pods.
 */
function readPlacement(
  w: Workload,
  plan: Plan,
  state: Residual,
): Omit<WorkloadPlacement, "newNodes" | "sharedNodes" | "costPerHour"> | undefined {
  if (plan.unplaced.some((u) => u.demand === w.name)) return undefined;
  const mine = plan.placements.filter((p) => p.demand === w.name);
  if (mine.length === 0 && w.replicas > 0) return undefined;
  const fresh = new Map(plan.newNodes.map((n) => [n.name, n]));
  const newSkus = new Set(mine.filter((p) => fresh.has(p.node)).map((p) => fresh.get(p.node)!.sku));
  // One Deployment, one GPU request: every replica must take as many GPUs on every node.
  const requests = new Set(mine.map((p) => p.gpus));
  if (newSkus.size > 1 || requests.size > 1 || !existingFit(w, plan, state)) return undefined;
  const gpusPerPod = Math.max(...mine.map((p) => p.gpus));
  const replicaNodes: string[][] = Array.from({ length: w.replicas }, () => []);
  for (const p of mine) replicaNodes[p.replica]!.push(p.node);
  const existingNodes = [...new Set(mine.filter((p) => !fresh.has(p.node)).map((p) => p.node))];
  const instanceType = [...newSkus][0] ?? state.node(existingNodes[0]!)?.sku ?? "";
  return {
    instanceType,
    replicas: w.replicas,
    gpusPerPod,
    nodesPerReplica: Math.max(1, ...replicaNodes.map((n) => n.length)),
    existingNodes,
    replicaNodes,
  };
}

/**
 * What the workloads placed so far leave to the others: free GPUs on existing nodes and on the
 * nodes they launch (with their host), and the quota.
 */
class Residual {
  private readonly skus: Map<string, SkuSpec>;
  private readonly quota: Record<string, number>;
  private readonly nodes = new Map<string, ExistingNode>();
  /** New nodes launched so far, and the workload that launches each. */
  readonly launched: NewNode[] = [];
  private readonly hostOf = new Map<string, string>();

  readonly existingOnly: boolean;
  private readonly catalog: readonly SkuSpec[];
  private readonly weigh: boolean;
  private readonly limits: Readonly<Record<string, number>>;

  constructor(context: PlacementContext) {
    this.catalog = context.catalog;
    this.limits = context.quotaLimits ?? {};
    this.weigh = context.weighQuota !== false && !context.existingOnly;
    this.skus = new Map(context.catalog.map((s) => [s.name, s]));
    this.existingOnly = context.existingOnly === true;
    // Bring your own nodes: no family may take a vCPU, so nothing new is planned.
    this.quota = this.existingOnly
      ? Object.fromEntries(context.catalog.map((s) => [s.family, 0]))
      : { ...context.quota };
    for (const n of context.nodes) this.nodes.set(n.name, { ...n });
  }

  node(name: string): ExistingNode | undefined {
    return this.nodes.get(name);
  }

  problem(demands: Demand[]): Parameters<PlanFn>[0] {
    // Bring-your-own nodes may be of sizes only their labels describe: the catalogue is the context's.
    const catalog = this.existingOnly
      ? [...this.catalog]
      : this.weigh
        ? quotaPriced(this.catalog, this.quota, this.limits)
        : undefined;
    return {
      ...(catalog ? { catalog } : {}),
      quota: { ...this.quota },
      nodes: [...this.nodes.values()].filter((n) => n.freeGpus > 0),
      demands,
    };
  }

  cost(): number {
    const sum = this.launched.reduce((s, n) => s + (this.skus.get(n.sku)?.pricePerHour ?? 0), 0);
    return Math.round(sum * 1e6) / 1e6;
  }

  /**
   * Records the placements of `accepted` in `plan`: the new nodes they use are launched (by the
   * first of them on each), and what those nodes and the existing ones have left stays on offer.
   */
  commit(accepted: readonly Workload[], plan: Plan): WorkloadOutcome[] {
    const names = new Set(accepted.map((w) => w.name));
    const fresh = new Map(plan.newNodes.map((n) => [n.name, n]));
    const outcomes: WorkloadOutcome[] = [];
    const hosted = new Map<string, NewNode[]>();
    const used = new Map<string, number>();
    for (const w of accepted) {
      for (const p of plan.placements) {
        if (p.demand !== w.name) continue;
        used.set(p.node, (used.get(p.node) ?? 0) + p.gpus);
        const node = fresh.get(p.node);
        if (!node || this.hostOf.has(node.name)) continue;
        this.hostOf.set(node.name, w.name);
        hosted.set(w.name, [...(hosted.get(w.name) ?? []), node]);
      }
    }
    for (const w of accepted) {
      const base = readPlacement(w, plan, this)!;
      const mine = hosted.get(w.name) ?? [];
      const shared = new Set<string>();
      for (const nodes of base.replicaNodes) {
        for (const n of nodes) if (this.hostOf.has(n) && this.hostOf.get(n) !== w.name) shared.add(n);
      }
      const placement: WorkloadPlacement = {
        ...base,
        existingNodes: base.existingNodes.filter((n) => !this.hostOf.has(n)),
        newNodes: mine,
        sharedNodes: [...shared].map((node) => ({ node, host: this.hostOf.get(node)! })),
        costPerHour:
          Math.round(mine.reduce((s, n) => s + (this.skus.get(n.sku)?.pricePerHour ?? 0), 0) * 1e6) / 1e6,
      };
      outcomes.push({ workload: w.name, placement });
    }
    // Launch what the accepted use; their leftovers, and the existing nodes', stay available.
    for (const node of plan.newNodes) {
      if (!this.hostOf.has(node.name) || this.nodes.has(node.name)) continue;
      if (!names.has(this.hostOf.get(node.name)!)) continue;
      const sku = this.skus.get(node.sku);
      this.launched.push(node);
      if (sku && this.quota[sku.family] !== undefined) this.quota[sku.family]! -= sku.vcpus;
      this.nodes.set(node.name, {
        name: node.name,
        sku: node.sku,
        labels: node.labels,
        freeGpus: sku?.gpus ?? 0,
      });
    }
    for (const [name, gpus] of used) {
      const node = this.nodes.get(name);
      if (node) node.freeGpus = Math.max(0, node.freeGpus - gpus);
    }
    return outcomes;
  }
}
