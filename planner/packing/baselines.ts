import { costOf, nodeNamer, range } from "./decode.ts";
import { quotaReason, staticReason } from "./reasons.ts";
import { labelKey, labelsInclude, shapeOn, soloCost, type Shape } from "./rules.ts";
import type { Demand, NewNode, Placement, Plan, Problem, SkuSpec, Unplaced } from "./types.ts";

/**
 * KAITO's policy: every workspace (demand) gets nodes of its own, one replica per node (or per
 * group of nodes, for a multi-node replica), of its given instance type (the cheapest of its
 * `skus`) or else the cheapest SKU that fits a replica. An existing node that fits is taken
 * whole by one replica.
 */
export function planDedicated(problem: Problem): Plan {
  const state = new BaselineState(problem);
  let free = [...problem.nodes];
  for (const demand of problem.demands) {
    const options = state.options(demand);
    if (!options) continue;
    for (const replica of range(demand.replicas)) {
      const i = free.findIndex(
        (n) => labelsInclude(n.labels, demand.labels) && state.fits(demand, n.sku, n.freeGpus) !== undefined,
      );
      if (i >= 0) {
        const node = free[i]!;
        free = free.filter((_, j) => j !== i);
        const gpus = state.fits(demand, node.sku, node.freeGpus)!;
        state.placements.push({ demand: demand.name, replica, node: node.name, gpus });
        continue;
      }
      if (!state.launch(demand, replica, options)) state.unplace(demand, replica);
    }
  }
  return state.plan();
}

/**
 * Karpenter's way: replicas largest first; each goes to the first existing node, then the first
 * node launched so far, that has room (and matching labels); otherwise a new node of the
 * cheapest SKU that fits it is launched.
 */
export function planFfd(problem: Problem): Plan {
  const state = new BaselineState(problem);
  const existing = [...problem.nodes]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((n) => ({ node: n, free: n.freeGpus }));
  const queue = problem.demands
    .flatMap((demand, order) => range(demand.replicas).map((replica) => ({ demand, replica, order })))
    .sort(
      (a, b) =>
        b.demand.totalGpuMemoryGiB - a.demand.totalGpuMemoryGiB || a.order - b.order || a.replica - b.replica,
    );
  for (const { demand, replica } of queue) {
    const options = state.options(demand);
    if (!options) continue;
    const old = existing.find(
      (e) =>
        e.free > 0 && labelsInclude(e.node.labels, demand.labels) && state.fits(demand, e.node.sku, e.free),
    );
    if (old) {
      const gpus = state.fits(demand, old.node.sku, old.free)!;
      old.free -= gpus;
      state.placements.push({ demand: demand.name, replica, node: old.node.name, gpus });
      continue;
    }
    const open = state.openNodes(labelKey(demand.labels));
    const fresh = open.find((l) => l.free > 0 && state.fits(demand, l.sku.name, l.free));
    if (fresh) {
      const gpus = state.fits(demand, fresh.sku.name, fresh.free)!;
      fresh.free -= gpus;
      state.placements.push({ demand: demand.name, replica, node: fresh.node.name, gpus });
      continue;
    }
    if (!state.launch(demand, replica, options)) state.unplace(demand, replica);
  }
  return state.plan();
}

interface Launched {
  node: NewNode;
  sku: SkuSpec;
  free: number;
}

/** Bookkeeping both baselines share: quota left, nodes launched, placements, reasons. */
class BaselineState {
  readonly placements: Placement[] = [];
  readonly unplaced: Unplaced[] = [];
  readonly launched: Launched[] = [];
  private readonly open = new Map<string, Launched[]>();
  private readonly problem: Problem;
  private readonly skus: Map<string, SkuSpec>;
  private readonly quotaLeft: Map<string, number>;
  private readonly name: (sku: SkuSpec) => string;
  private readonly cache = new Map<Demand, { sku: SkuSpec; shape: Shape }[] | undefined>();
  private readonly shapes = new Map<Demand, Map<string, Shape>>();

  constructor(problem: Problem) {
    this.problem = problem;
    this.skus = new Map(problem.catalog.map((s) => [s.name, s]));
    this.quotaLeft = new Map(Object.entries(problem.quota));
    this.name = nodeNamer(new Set(problem.nodes.map((n) => n.name)));
  }

  sku(name: string): SkuSpec {
    return this.skus.get(name)!;
  }

  /** GPUs a replica of `demand` takes on a node of `skuName` with `free` GPUs, if it fits. */
  fits(demand: Demand, skuName: string, free: number): number | undefined {
    let byName = this.shapes.get(demand);
    if (!byName) {
      byName = new Map(this.problem.catalog.map((sku) => [sku.name, shapeOn(demand, sku)]));
      this.shapes.set(demand, byName);
    }
    const shape = byName.get(skuName)!;
    return shape.kind === "single" && shape.gpus <= free ? shape.gpus : undefined;
  }

  /** Launched single nodes of one label set that may still have room, in launch order. */
  openNodes(key: string): Launched[] {
    const list = this.open.get(key) ?? [];
    if (list.some((l) => l.free === 0)) {
      const left = list.filter((l) => l.free > 0);
      this.open.set(key, left);
      return left;
    }
    return list;
  }

  /** The SKUs a replica fits on, cheapest first; undefined (and reasons recorded) if none. */
  options(demand: Demand): { sku: SkuSpec; shape: Shape }[] | undefined {
    if (!this.cache.has(demand)) {
      const reason = staticReason(demand, this.problem.catalog);
      if (reason !== undefined) {
        for (const replica of range(demand.replicas))
          this.unplaced.push({ demand: demand.name, replica, code: "NoEligibleSku", reason });
        this.cache.set(demand, undefined);
      } else {
        const list = this.problem.catalog
          .map((sku) => ({ sku, shape: shapeOn(demand, sku) }))
          .filter((o) => o.shape.kind !== "ineligible")
          .sort(
            (a, b) =>
              soloCost(a.shape, a.sku) - soloCost(b.shape, b.sku) ||
              a.sku.gpus - b.sku.gpus ||
              (a.sku.name < b.sku.name ? -1 : 1),
          );
        this.cache.set(demand, list);
      }
    }
    return this.cache.get(demand);
  }

  /** Launches nodes for one replica on the cheapest option with quota left. */
  launch(demand: Demand, replica: number, options: { sku: SkuSpec; shape: Shape }[]): boolean {
    for (const { sku, shape } of options) {
      const nodes = shape.kind === "multi" ? shape.nodes : 1;
      const left = this.quotaLeft.get(sku.family);
      if (left !== undefined && left < nodes * sku.vcpus) continue;
      if (left !== undefined) this.quotaLeft.set(sku.family, left - nodes * sku.vcpus);
      for (let i = 0; i < nodes; i++) {
        const node: NewNode = { name: this.name(sku), sku: sku.name, labels: demand.labels };
        const gpus = shape.kind === "multi" ? sku.gpus : (shape as { gpus: number }).gpus;
        const launched = { node, sku, free: sku.gpus - gpus };
        this.launched.push(launched);
        if (launched.free > 0) {
          const key = labelKey(demand.labels);
          const list = this.open.get(key) ?? [];
          list.push(launched);
          this.open.set(key, list);
        }
        this.placements.push({ demand: demand.name, replica, node: node.name, gpus });
      }
      return true;
    }
    return false;
  }

  unplace(demand: Demand, replica: number): void {
    this.unplaced.push({
      demand: demand.name,
      replica,
      code: "QuotaExhausted",
      reason: quotaReason(demand, this.problem),
    });
  }

  plan(): Plan {
    const order = new Map(this.problem.demands.map((d, i) => [d.name, i]));
    const byDemand = (a: { demand: string; replica: number }, b: { demand: string; replica: number }) =>
      order.get(a.demand)! - order.get(b.demand)! || a.replica - b.replica;
    const newNodes = this.launched.map((l) => l.node);
    const costPerHour = costOf(newNodes, this.problem.catalog);
    return {
      costPerHour,
      newNodes,
      placements: this.placements.sort(byDemand),
      unplaced: this.unplaced.sort(byDemand),
      lowerBound: 0,
      solveMs: 0,
      gap: costPerHour > 0 ? 1 : 0,
      status: "baseline",
    };
  }
}
