import { type Aggregate, type DemandClass, type LabelGroup } from "./classes.ts";
import { replicaOrder, type DecodedPlan } from "./decode.ts";
import { quotaReason } from "./reasons.ts";
import { shapeOn, type Shape } from "./rules.ts";
import type {
  Demand,
  ExistingNode,
  Labels,
  NewNode,
  Placement,
  Problem,
  SkuSpec,
  Unplaced,
} from "./types.ts";

/**
 * Label groups that no node can serve together are independent but for the quotas: a new node
 * holds one group's replicas only, and an existing node links just the groups whose labels it
 * carries. A block is a set of groups closed under those links (a connected component); in a
 * fleet where most workspaces have a labelSelector of their own, most blocks are one group of
 * one demand.
 *
 * Each block is restated as a canonical problem: one demand per class (named `c0`, `c1`, ...),
 * its existing nodes (`e0`, ...), and a label `g<i>` per group, ordered by what they are rather
 * than what they are called. Blocks whose canonical problems are equal have the same plans, so
 * they form one BlockType and are solved once (thousands of single-workspace groups running
 * the same model collapse into a few dozen types).
 */
export interface Block {
  /** Groups in canonical order: canonical label `g<i>` stands for groups[i]. */
  groups: LabelGroup[];
  /** Canonical demand `c<j>` stands for classes[j]. */
  classes: DemandClass[];
  /** Canonical node `e<i>` stands for nodes[i]. */
  nodes: ExistingNode[];
}

export interface BlockType {
  key: string;
  /** The canonical problem, shared by every block of the type. */
  problem: Problem;
  blocks: Block[];
  /** One demand and no node that another group shares: singleDemandPlan solves it exactly. */
  singleDemand: boolean;
  /** shapeOn(problem.demands[i], problem.catalog[s]), worked out once. */
  shapes: Shape[][];
}

export function splitIntoBlocks(agg: Aggregate): BlockType[] {
  const { groups, classes, nodeClasses } = agg;
  const parent = groups.map((g) => g.id);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const nc of nodeClasses) {
    const [first, ...rest] = [...nc.groups];
    for (const g of rest) parent[find(g)] = find(first!);
  }

  const members = new Map<number, { groups: LabelGroup[]; classes: DemandClass[]; nodes: ExistingNode[] }>();
  const of = (g: number) => {
    const root = find(g);
    let m = members.get(root);
    if (!m) {
      m = { groups: [], classes: [], nodes: [] };
      members.set(root, m);
    }
    return m;
  };
  for (const c of classes) of(c.group).classes.push(c);
  for (const nc of nodeClasses) of([...nc.groups][0]!).nodes.push(...nc.nodes);
  // Groups without a class (all their demands hopeless) plan nothing.
  const roots = [...members.keys()].sort((a, b) => a - b);

  const types = new Map<string, BlockType>();
  for (const root of roots) {
    const m = members.get(root)!;
    if (m.classes.length === 0) continue;
    const block = canonicalBlock(m.classes, m.nodes, groups, agg.problem.catalog);
    let type = types.get(block.key);
    if (!type) {
      const problem = canonicalProblem(block.block, agg.problem);
      type = {
        key: block.key,
        problem,
        blocks: [],
        singleDemand: block.block.classes.length === 1,
        shapes: problem.demands.map((d) => problem.catalog.map((s) => shapeOn(d, s))),
      };
      types.set(block.key, type);
    }
    type.blocks.push(block.block);
  }
  return [...types.values()];
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function classSignature(c: DemandClass): string {
  return `${c.signature}/${c.replicas}/${c.limited ? 1 : 0}`;
}

/** The block's groups, classes and nodes in canonical order, and the key of that order. */
function canonicalBlock(
  classes: DemandClass[],
  nodes: ExistingNode[],
  allGroups: readonly LabelGroup[],
  catalog: readonly SkuSpec[],
): { block: Block; key: string } {
  const byGroup = new Map<number, { sig: string; cls: DemandClass }[]>();
  for (const c of classes) {
    const list = byGroup.get(c.group) ?? [];
    list.push({ sig: classSignature(c), cls: c });
    byGroup.set(c.group, list);
  }
  const groupEntries = [...byGroup].map(([g, list]) => {
    list.sort((a, b) => compare(a.sig, b.sig) || a.cls.id - b.cls.id);
    return { group: allGroups[g]!, list, sig: list.map((x) => x.sig).join(";") };
  });
  groupEntries.sort((a, b) => compare(a.sig, b.sig) || a.group.id - b.group.id);

  // A node's signature: its SKU, free GPUs and the canonical groups it serves.
  const skuIndex = new Map(catalog.map((s, i) => [s.name, i]));
  const servedBy = (n: ExistingNode) =>
    groupEntries.map((e, i) => (labelsCarry(n.labels, e.group.labels) ? i : -1)).filter((i) => i >= 0);
  const nodeEntries = nodes.map((n) => ({
    node: n,
    sig: `${skuIndex.get(n.sku)}/${n.freeGpus}/${servedBy(n).join(",")}`,
  }));
  nodeEntries.sort((a, b) => compare(a.sig, b.sig) || compare(a.node.name, b.node.name));

  const block: Block = {
    groups: groupEntries.map((e) => e.group),
    classes: groupEntries.flatMap((e) => e.list.map((x) => x.cls)),
    nodes: nodeEntries.map((e) => e.node),
  };
  const key = JSON.stringify([groupEntries.map((e) => e.sig), nodeEntries.map((e) => e.sig)]);
  return { block, key };
}

function labelsCarry(nodeLabels: Labels, wanted: Labels): boolean {
  for (const k in wanted) if (nodeLabels[k] !== wanted[k]) return false;
  return true;
}

const groupLabel = (i: number): Labels => ({ [`g${i}`]: "1" });

/**
 * SKUs a block never needs new nodes of: another SKU hosts everything they host, each replica
 * on no more GPUs and nodes, at no higher price, and takes no more of any quota (the same
 * family with no more vCPUs, or a family without quota). Replacing every node of the first
 * with one of the second keeps any plan valid and no dearer at any quota prices, so removing
 * them loses no optimum and shrinks the model (the catalogue's 8- and 16-vCPU T4 sizes, for
 * one, are the 4-vCPU size at a higher price). SKUs of the block's existing nodes stay.
 */
function dominatedSkus(
  demands: readonly Demand[],
  nodes: readonly ExistingNode[],
  problem: Problem,
): Set<string> {
  const kept = new Set(nodes.map((n) => n.sku));
  const out = new Set<string>();
  const shapes = demands.map((d) => problem.catalog.map((s) => shapeOn(d, s)));
  problem.catalog.forEach((s, i) => {
    if (kept.has(s.name) || shapes.every((row) => row[i]!.kind === "ineligible")) return;
    const better = problem.catalog.some((t, j) => {
      if (j === i || out.has(t.name) || t.gpus < s.gpus || t.pricePerHour > s.pricePerHour) return false;
      if (t.pricePerHour === s.pricePerHour && t.gpus === s.gpus && t.vcpus === s.vcpus && j > i)
        return false;
      const quotaOk = problem.quota[t.family] === undefined || (t.family === s.family && t.vcpus <= s.vcpus);
      if (!quotaOk) return false;
      return shapes.every((row) => {
        const a = row[i]!;
        const b = row[j]!;
        if (a.kind === "ineligible") return true;
        if (b.kind === "ineligible") return false;
        if (b.kind === "single") return b.gpus <= a.gpus || a.kind === "multi";
        return a.kind === "multi" && b.nodes <= a.nodes;
      });
    });
    if (better) out.add(s.name);
  });
  return out;
}

function canonicalProblem(block: Block, problem: Problem): Problem {
  const groupIndex = new Map(block.groups.map((g, i) => [g.id, i]));
  const demands: Demand[] = block.classes.map((c, j) => {
    const model = c.members[0]!;
    return {
      name: `c${j}`,
      replicas: c.replicas,
      totalGpuMemoryGiB: model.totalGpuMemoryGiB,
      minGpuMemoryGiB: model.minGpuMemoryGiB,
      labels: groupLabel(groupIndex.get(c.group)!),
      maxNodesPerReplica: model.maxNodesPerReplica,
      ...(model.skus ? { skus: model.skus } : {}),
    };
  });
  const dominated = dominatedSkus(demands, block.nodes, problem);
  if (dominated.size > 0) {
    for (const d of demands) {
      d.skus = problem.catalog
        .filter((s) => !dominated.has(s.name) && shapeOn(d, s).kind !== "ineligible")
        .map((s) => s.name);
    }
  }
  const nodes: ExistingNode[] = block.nodes.map((n, i) => {
    const labels: Record<string, string> = {};
    block.groups.forEach((g, k) => {
      if (labelsCarry(n.labels, g.labels)) Object.assign(labels, groupLabel(k));
    });
    return { name: `e${i}`, sku: n.sku, labels, freeGpus: n.freeGpus };
  });
  return { catalog: problem.catalog, quota: problem.quota, nodes, demands };
}

/** Fresh names for the new nodes of every block, unique across the whole plan. */
export type Namer = (sku: SkuSpec) => string;

export interface PlanParts {
  newNodes: NewNode[];
  placements: Placement[];
  unplaced: Unplaced[];
}

/**
 * A canonical plan of `block`'s type, restated for `block` itself: canonical demands, replicas,
 * nodes and labels become the real ones, new nodes get fresh names. Appends to `out`.
 */
export function instantiate(
  block: Block,
  plan: DecodedPlan,
  problem: Problem,
  skus: ReadonlyMap<string, SkuSpec>,
  name: Namer,
  reasons: Map<Demand, string>,
  out: PlanParts,
): void {
  const orders = new Map<string, { demand: Demand; replica: number }[]>();
  const replicaOf = (canonical: string, replica: number) => {
    let order = orders.get(canonical);
    if (!order) {
      order = replicaOrder(block.classes[Number(canonical.slice(1))]!);
      orders.set(canonical, order);
    }
    return order[replica]!;
  };
  const renamed = new Map<string, string>();
  for (const n of plan.newNodes) {
    const real = name(skus.get(n.sku)!);
    renamed.set(n.name, real);
    const g = Number(Object.keys(n.labels)[0]!.slice(1));
    out.newNodes.push({ name: real, sku: n.sku, labels: block.groups[g]!.labels });
  }
  for (const p of plan.placements) {
    const r = replicaOf(p.demand, p.replica);
    const node = renamed.get(p.node) ?? block.nodes[Number(p.node.slice(1))]!.name;
    out.placements.push({ demand: r.demand.name, replica: r.replica, node, gpus: p.gpus });
  }
  for (const u of plan.unplaced) {
    const r = replicaOf(u.demand, u.replica);
    let reason = reasons.get(r.demand);
    if (reason === undefined) {
      reason = quotaReason(r.demand, problem);
      reasons.set(r.demand, reason);
    }
    out.unplaced.push({ demand: r.demand.name, replica: r.replica, code: u.code, reason });
  }
}
