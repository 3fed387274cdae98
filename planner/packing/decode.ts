import type { Aggregate, DemandClass } from "./classes.ts";
import { key, type PackingModel } from "./model.ts";
import { quotaReason } from "./reasons.ts";
import type { Demand, NewNode, Placement, SkuSpec, Unplaced } from "./types.ts";

export interface DecodedPlan {
  newNodes: NewNode[];
  placements: Placement[];
  unplaced: Unplaced[];
  costPerHour: number;
}

interface Item {
  demand: Demand;
  replica: number;
  gpus: number;
}

/**
 * Turns the model's counts into concrete nodes and placements. Packing is first-fit
 * decreasing, which the capacity rows guarantee succeeds (see model.ts); names depend only on
 * the problem and the counts, so the same solution always decodes to the same plan.
 */
export function decode(agg: Aggregate, pm: PackingModel, values: readonly number[]): DecodedPlan {
  const { problem, classes, nodeClasses } = agg;
  const catalog = problem.catalog;
  const v = (col: number | undefined) => (col === undefined ? 0 : Math.max(0, Math.round(values[col] ?? 0)));

  const placements: Placement[] = [];
  const unplaced: Unplaced[] = agg.hopeless.flatMap(({ demand, reason }) =>
    range(demand.replicas).map((replica) => ({
      demand: demand.name,
      replica,
      code: "NoEligibleSku" as const,
      reason,
    })),
  );
  const existingItems = nodeClasses.map(() => [] as Item[]);
  const poolLeft = new Map<string, { e: number; count: number }[]>();
  // Items per label group and SKU, and the multi-node replicas.
  const newItems = new Map<string, Item[]>();
  const multiItems: { group: number; sku: number; nodes: number; item: Item }[] = [];

  for (const c of classes) {
    const queue = replicaOrder(c);
    let next = 0;
    const take = (count: number) => {
      const got = queue.slice(next, next + count);
      next += got.length;
      return got;
    };
    catalog.forEach((_, s) => {
      const shape = c.shapes[s]!;
      if (shape.kind !== "single") return;
      // The pool (group, s, k) hands its replicas to node classes as the solution says.
      for (const r of take(v(pm.x.get(key(c.id, s))))) {
        const poolKey = `${c.group}:${s}:${shape.gpus}`;
        let left = poolLeft.get(poolKey);
        if (!left) {
          left = nodeClasses
            .filter((nc) => nc.sku === s)
            .map((nc) => ({ e: nc.id, count: v(pm.existing.get(`${nc.id}:${c.group}:${shape.gpus}`)) }))
            .filter((x) => x.count > 0);
          poolLeft.set(poolKey, left);
        }
        const target = left.find((x) => x.count > 0);
        if (!target)
          throw new Error(`internal: pool ${poolKey} hands out more replicas than its node classes take`);
        target.count--;
        existingItems[target.e]!.push({ ...r, gpus: shape.gpus });
      }
    });
    catalog.forEach((_, s) => {
      const shape = c.shapes[s]!;
      if (shape.kind === "single") {
        const list = newItems.get(key(c.group, s)) ?? [];
        for (const r of take(v(pm.y.get(key(c.id, s))))) list.push({ ...r, gpus: shape.gpus });
        newItems.set(key(c.group, s), list);
      } else if (shape.kind === "multi") {
        for (const r of take(v(pm.w.get(key(c.id, s))))) {
          multiItems.push({ group: c.group, sku: s, nodes: shape.nodes, item: { ...r, gpus: shape.gpus } });
        }
      }
    });
    const reasons = new Map<Demand, string>();
    for (const r of queue.slice(next)) {
      if (!reasons.has(r.demand)) reasons.set(r.demand, quotaReason(r.demand, problem));
      unplaced.push({
        demand: r.demand.name,
        replica: r.replica,
        code: "QuotaExhausted",
        reason: reasons.get(r.demand)!,
      });
    }
  }

  nodeClasses.forEach((nc, e) => {
    const bins = nc.nodes.map((node) => ({ name: node.name, free: node.freeGpus }));
    firstFitDecreasing(existingItems[e]!, bins, placements, () => {
      throw new Error(`internal: the solution overfills existing node class ${e}`);
    });
  });

  const namer = nodeNamer(new Set(problem.nodes.map((n) => n.name)));
  const newNodes: NewNode[] = [];
  const groupOrder = [...agg.groups].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const group of groupOrder) {
    catalog.forEach((sku, s) => {
      const items = newItems.get(key(group.id, s));
      if (!items || items.length === 0) return;
      firstFitDecreasing(items, [], placements, () => {
        const bin = { name: namer(sku), free: sku.gpus };
        newNodes.push({ name: bin.name, sku: sku.name, labels: group.labels });
        return bin;
      });
    });
    for (const m of multiItems.filter((m) => m.group === group.id)) {
      const sku = catalog[m.sku]!;
      for (let i = 0; i < m.nodes; i++) {
        const name = namer(sku);
        newNodes.push({ name, sku: sku.name, labels: group.labels });
        placements.push({ demand: m.item.demand.name, replica: m.item.replica, node: name, gpus: sku.gpus });
      }
    }
  }

  const order = new Map(problem.demands.map((d, i) => [d.name, i]));
  const byDemand = (a: { demand: string; replica: number }, b: { demand: string; replica: number }) =>
    order.get(a.demand)! - order.get(b.demand)! || a.replica - b.replica;
  placements.sort(byDemand);
  unplaced.sort(byDemand);
  return { newNodes, placements, unplaced, costPerHour: costOf(newNodes, catalog) };
}

/**
 * The class's replicas, interleaved across its demands (a0 b0 a1 b1 ...), so that when some
 * must stay unplaced the shortfall is spread over the demands rather than falling on the last.
 */
export function replicaOrder(c: DemandClass): { demand: Demand; replica: number }[] {
  const out: { demand: Demand; replica: number }[] = [];
  const most = Math.max(...c.members.map((d) => d.replicas));
  for (let r = 0; r < most; r++) {
    for (const d of c.members) if (r < d.replicas) out.push({ demand: d, replica: r });
  }
  return out;
}

interface Bin {
  name: string;
  free: number;
}

/**
 * Places items largest first, each into the first bin with room, opening a bin when none has.
 * A bin that once lacked room for size t never regains it, so one cursor per size keeps this
 * linear in items plus bins.
 */
function firstFitDecreasing(items: Item[], bins: Bin[], placements: Placement[], open: () => Bin): void {
  const sorted = items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => b.item.gpus - a.item.gpus || a.i - b.i)
    .map((x) => x.item);
  const cursor = new Map<number, number>();
  for (const item of sorted) {
    let i = cursor.get(item.gpus) ?? 0;
    while (i < bins.length && bins[i]!.free < item.gpus) i++;
    if (i === bins.length) bins.push(open());
    cursor.set(item.gpus, i);
    const bin = bins[i]!;
    bin.free -= item.gpus;
    placements.push({ demand: item.demand.name, replica: item.replica, node: bin.name, gpus: item.gpus });
  }
}

/** Names new nodes `<sku>-<n>` (lower case, n counting per SKU), skipping taken names. */
export function nodeNamer(taken: ReadonlySet<string>): (sku: SkuSpec) => string {
  const counters = new Map<string, number>();
  return (sku) => {
    const base = sku.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "");
    for (;;) {
      const n = (counters.get(base) ?? 0) + 1;
      counters.set(base, n);
      const name = `${base}-${n}`;
      if (!taken.has(name)) return name;
    }
  };
}

export function costOf(nodes: readonly { sku: string }[], catalog: readonly SkuSpec[]): number {
  const price = new Map(catalog.map((s) => [s.name, s.pricePerHour]));
  return roundMoney(nodes.reduce((sum, n) => sum + price.get(n.sku)!, 0));
}

/** Prices have at most a few decimals; summing floats should not print 12.240000000000002. */
export function roundMoney(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
