import { labelKey, labelsInclude, shapeOn, type Shape } from "./rules.ts";
import { staticReason } from "./reasons.ts";
import type { Demand, ExistingNode, Labels, Problem } from "./types.ts";

/**
 * The aggregated view of a problem. Demands whose replicas are interchangeable (same labels,
 * same shape on every SKU) form one class, and existing nodes that offer the same thing (same
 * SKU, same free GPUs, same label groups served) form one node class, so the model's size
 * depends on how varied the demands are, not on how many there are.
 */
export interface Aggregate {
  problem: Problem;
  groups: LabelGroup[];
  classes: DemandClass[];
  nodeClasses: NodeClass[];
  /** Demands no SKU can host at all, with the reason. */
  hopeless: { demand: Demand; reason: string }[];
}

export interface LabelGroup {
  id: number;
  key: string;
  labels: Labels;
}

export interface DemandClass {
  id: number;
  group: number;
  /** Parallel to problem.catalog. */
  shapes: Shape[];
  /** The shapes as a string: equal for demands that sit alike on every SKU. */
  signature: string;
  members: Demand[];
  replicas: number;
  /** Every SKU this class can use sits in a family with a quota, so it may go unplaced. */
  limited: boolean;
}

/**
 * Existing nodes of one SKU that serve the same label groups. Their free GPUs may differ: the
 * capacity rows hold for bins of any sizes (see model.ts), so they need not be split further.
 */
export interface NodeClass {
  id: number;
  /** Index into problem.catalog. */
  sku: number;
  /** With free GPUs, sorted by name. */
  nodes: ExistingNode[];
  /** Ids of the label groups whose labels every node here carries. */
  groups: ReadonlySet<number>;
  /** Most free GPUs on one node. */
  maxFree: number;
}

/** GPUs the nodes of `nc` offer to replicas of size ≥ t: Σ ⌊free/t⌋·t. */
export function roomFor(nc: NodeClass, t: number): number {
  return nc.nodes.reduce((sum, n) => sum + Math.floor(n.freeGpus / t) * t, 0);
}

export function aggregate(problem: Problem): Aggregate {
  const groups: LabelGroup[] = [];
  const groupByKey = new Map<string, LabelGroup>();
  const classes: DemandClass[] = [];
  const classByKey = new Map<string, DemandClass>();
  const hopeless: Aggregate["hopeless"] = [];

  for (const demand of problem.demands) {
    const shapes = problem.catalog.map((sku) => shapeOn(demand, sku));
    if (shapes.every((s) => s.kind === "ineligible")) {
      hopeless.push({ demand, reason: staticReason(demand, problem.catalog)! });
      continue;
    }
    const gKey = labelKey(demand.labels);
    let group = groupByKey.get(gKey);
    if (!group) {
      group = { id: groups.length, key: gKey, labels: demand.labels };
      groups.push(group);
      groupByKey.set(gKey, group);
    }
    const signature = shapes.map(shapeKey).join(",");
    const cKey = `${group.id}|${signature}`;
    let cls = classByKey.get(cKey);
    if (!cls) {
      const limited = shapes.every(
        (s, i) => s.kind === "ineligible" || problem.quota[problem.catalog[i]!.family] !== undefined,
      );
      cls = { id: classes.length, group: group.id, shapes, signature, members: [], replicas: 0, limited };
      classes.push(cls);
      classByKey.set(cKey, cls);
    }
    cls.members.push(demand);
    cls.replicas += demand.replicas;
  }

  const skuIndex = new Map(problem.catalog.map((s, i) => [s.name, i]));
  const nodeClasses: NodeClass[] = [];
  const nodeClassByKey = new Map<string, NodeClass>();
  const sortedNodes = [...problem.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const servedBy = groupsServedBy(groups, groupByKey);
  for (const node of sortedNodes) {
    if (node.freeGpus <= 0) continue;
    const served = servedBy(node.labels);
    if (served.length === 0) continue;
    const sku = skuIndex.get(node.sku)!;
    const key = `${sku}|${served.join(",")}`;
    let nc = nodeClassByKey.get(key);
    if (!nc) {
      nc = { id: nodeClasses.length, sku, nodes: [], groups: new Set(served), maxFree: 0 };
      nodeClasses.push(nc);
      nodeClassByKey.set(key, nc);
    }
    nc.nodes.push(node);
    nc.maxFree = Math.max(nc.maxFree, node.freeGpus);
  }
  return { problem, groups, classes, nodeClasses, hopeless };
}

/** Past this many labels on a node, its label subsets are too many to look up one by one. */
const MAX_SUBSET_LABELS = 10;

/**
 * The ids (ascending) of the label groups a node with `labels` serves: those whose labels it
 * carries. A fleet has thousands of groups and nodes carry a few labels, so the subsets of the
 * node's labels are looked up rather than every group tested.
 */
function groupsServedBy(
  groups: readonly LabelGroup[],
  byKey: ReadonlyMap<string, LabelGroup>,
): (labels: Labels) => number[] {
  return (labels) => {
    const entries = Object.entries(labels);
    if (entries.length > MAX_SUBSET_LABELS) {
      return groups.filter((g) => labelsInclude(labels, g.labels)).map((g) => g.id);
    }
    const ids: number[] = [];
    for (let mask = 0; mask < 1 << entries.length; mask++) {
      const subset = Object.fromEntries(entries.filter((_, i) => mask & (1 << i)));
      const g = byKey.get(labelKey(subset));
      if (g) ids.push(g.id);
    }
    return ids.sort((a, b) => a - b);
  };
}

export function shapeKey(s: Shape): string {
  return s.kind === "single" ? `s${s.gpus}` : s.kind === "multi" ? `m${s.gpus}` : "x";
}

/** GPUs one replica of `cls` takes on a node of `nc`, or undefined when it cannot go there. */
export function gpusOnExisting(cls: DemandClass, nc: NodeClass): number | undefined {
  if (!nc.groups.has(cls.group)) return undefined;
  const shape = cls.shapes[nc.sku]!;
  return shape.kind === "single" && shape.gpus <= nc.maxFree ? shape.gpus : undefined;
}
