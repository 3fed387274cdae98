import type { MilpSolver } from "../solver/types.ts";
import { BlockDp } from "./block-dp.ts";
import type { BlockType } from "./blocks.ts";
import { aggregate, type Aggregate } from "./classes.ts";
import { costOf, decode, nodeNamer, type DecodedPlan } from "./decode.ts";
import { buildModel, type PackingModel } from "./model.ts";
import { labelsInclude, shapeOn, type Shape } from "./rules.ts";
import { DemandOptions, type NodePrice } from "./single-class.ts";
import type { Placement, Problem, SkuSpec } from "./types.ts";

/**
 * Prices of the Lagrangian relaxation: a vCPU of each quota family costs `quota[family]` on
 * top of the node's price, and an unplaced replica costs `unplaced` (large enough that placing
 * as many replicas as possible always comes first, see lagrange.ts).
 */
export interface Prices {
  quota: Readonly<Record<string, number>>;
  unplaced: number;
}

/** A plan of a block type with its true cost and what it takes of the linking resources. */
export interface Candidate {
  /** The plan in the type's canonical names; decoded when first asked for. */
  plan(): DecodedPlan;
  /** costPerHour + unplaced × the unplaced price: the master's objective. */
  cost: number;
  /** vCPUs per linked family, parallel to the families the pricer was given. */
  use: number[];
  unplaced: number;
  /** New nodes by SKU, for telling candidates apart. */
  signature: string;
}

export interface Priced {
  candidate: Candidate;
  /** The plan's value at the prices. */
  value: number;
  /** A proven lower bound on the type's optimum at the prices (= value when exact). */
  bound: number;
}

/** States per replica in the quick plan of a block of several demands (see block-dp.ts). */
const QUICK_BEAM = 3;

/** Prices a block type: its cheapest plan at given prices, exactly or quickly. */
export class TypePricer {
  readonly type: BlockType;
  private readonly families: readonly string[];
  private readonly unplacedPrice: number;
  private readonly family: Map<string, number>;
  /** Per demand: whether every SKU that hosts it is under quota (so it may go unplaced). */
  private readonly limited: boolean[];
  /** One demand: its closed form. Several: the DP, and each demand alone for the split plan. */
  private readonly single?: DemandOptions;
  private readonly dp?: BlockDp;
  private alone: DemandOptions[] | undefined;
  private agg: Aggregate | undefined;
  private lastQuick: { prices: Prices; priced: Priced } | undefined;

  /** `unplacedPrice`: what the master charges for an unplaced replica, the same at every price. */
  constructor(type: BlockType, families: readonly string[], unplacedPrice: number) {
    this.type = type;
    this.families = families;
    this.unplacedPrice = unplacedPrice;
    this.family = new Map(families.map((f, i) => [f, i]));
    const problem = type.problem;
    this.limited = type.shapes.map((row) =>
      row.every(
        (shape, s) => shape.kind === "ineligible" || problem.quota[problem.catalog[s]!.family] !== undefined,
      ),
    );
    if (type.singleDemand) {
      this.single = new DemandOptions(problem, type.shapes[0]);
    } else {
      this.dp = new BlockDp(problem, type.shapes);
    }
  }

  /**
   * The type's cheapest plan at `prices`: in closed form for one demand; otherwise the quick
   * plan when it meets the fractional bound, else the DP of block-dp.ts, else the solver on the
   * type's packing model within `timeLimitMs`, to within `mipGap`. When the solver runs out of
   * time the bound is the model's LP relaxation.
   */
  async exact(prices: Prices, solver: MilpSolver, timeLimitMs: number, mipGap: number): Promise<Priced> {
    const quick = this.quick(prices);
    if (this.type.singleDemand) return quick;
    const floor = fractionalBound(this.type.problem, prices, this.type.shapes);
    const tight = (value: number) => value <= floor + 1e-9 * Math.max(1, value);
    if (tight(quick.value)) return { ...quick, bound: quick.value };
    const dp = this.dp!.solve(nodePrice(prices), (i) => this.unplacedOf(i, prices), {
      upperBound: quick.value,
    });
    if (dp) {
      if (!(dp.value < quick.value - 1e-9 * Math.max(1, quick.value)))
        return { ...quick, bound: quick.value };
      return { candidate: this.make(dp.bought, dp.unplaced, dp.plan), value: dp.value, bound: dp.value };
    }
    this.agg ??= aggregate(this.type.problem);
    const pm = buildModel(this.agg, {
      kind: "priced",
      quotaPrice: prices.quota,
      unplacedCost: prices.unplaced,
    });
    const r = await solver.solve(pm.model, { timeLimitMs: Math.max(1, timeLimitMs), mipGap });
    let bound = r.status === "optimal" ? r.bound : undefined;
    if (bound === undefined) {
      const lp = await solver.solve(pm.model, { relax: true, timeLimitMs: Math.max(1, timeLimitMs) });
      bound = Math.max(floor, lp.status === "optimal" ? lp.objective : -Infinity);
    }
    if (r.values.length === 0 || quick.value <= r.objective) {
      return { ...quick, bound: Math.min(bound, quick.value) };
    }
    return {
      candidate: this.fromModel(pm, r.values),
      value: r.objective,
      bound: Math.min(bound, r.objective),
    };
  }

  /**
   * The type's cheapest plan (unplaced replicas at their price) within `quota`, the vCPUs the
   * rest of the plan leaves: a whole copy that fits where the master's prices found none.
   * Undefined when the solver finds nothing in time.
   */
  async within(
    quota: Readonly<Record<string, number>>,
    prices: Prices,
    solver: MilpSolver,
    timeLimitMs: number,
  ): Promise<Candidate | undefined> {
    const agg = aggregate({ ...this.type.problem, quota });
    const pm = buildModel(agg, {
      kind: "priced",
      quotaPrice: {},
      unplacedCost: prices.unplaced,
      keepQuota: true,
    });
    const r = await solver.solve(pm.model, { timeLimitMs: Math.max(1, timeLimitMs) });
    if (r.values.length === 0) return undefined;
    return this.fromModel(pm, r.values, agg);
  }

  /**
   * A good plan at `prices`, found without the solver so the search for prices can run on it:
   * exact for one demand; for several, the DP's narrow sweep (a few states per replica, so
   * replicas share nodes as the exact plan would), or the split plan where the DP does not
   * apply. Never cheaper than the optimum.
   */
  quick(prices: Prices): Priced {
    // The exact pricing follows the quick one at the same prices: answer it from memory.
    if (this.lastQuick?.prices === prices) return this.lastQuick.priced;
    const priced = this.quickAt(prices);
    this.lastQuick = { prices, priced };
    return priced;
  }

  private quickAt(prices: Prices): Priced {
    const price = nodePrice(prices);
    if (this.single) {
      const r = this.single.at(price, this.unplacedOf(0, prices));
      return { candidate: this.make(r.bought, r.unplaced, r.plan), value: r.value, bound: r.value };
    }
    const dp = this.dp!.solve(price, (i) => this.unplacedOf(i, prices), { beam: QUICK_BEAM });
    if (!dp) return this.split(prices);
    return { candidate: this.make(dp.bought, dp.unplaced, dp.plan), value: dp.value, bound: -Infinity };
  }

  /**
   * Every demand of the type on nodes of its own, after the existing nodes' free GPUs went to
   * the demands they save most. Valid and never cheaper than the optimum.
   */
  split(prices: Prices): Priced {
    const problem = this.type.problem;
    const price = nodePrice(prices);
    if (this.single) return this.quick(prices);
    const onExisting = existingShares(problem, price, this.type.shapes);
    this.alone ??= problem.demands.map(
      (d, i) => new DemandOptions({ ...problem, nodes: [], demands: [d] }, this.type.shapes[i]),
    );
    const parts = this.alone.map((options, i) =>
      options.at(price, this.unplacedOf(i, prices), problem.demands[i]!.replicas - onExisting.taken[i]!),
    );
    const plan = (): DecodedPlan => {
      const name = nodeNamer(new Set(problem.nodes.map((n) => n.name)));
      const skus = new Map(problem.catalog.map((s) => [s.name, s]));
      const out: DecodedPlan = {
        newNodes: [],
        placements: [...onExisting.placements],
        unplaced: [],
        costPerHour: 0,
      };
      parts.forEach((part, i) => {
        const offset = onExisting.taken[i]!;
        const p = part.plan();
        const renamed = new Map<string, string>();
        for (const n of p.newNodes) {
          const fresh = name(skus.get(n.sku)!);
          renamed.set(n.name, fresh);
          out.newNodes.push({ ...n, name: fresh });
        }
        for (const x of p.placements) {
          out.placements.push({ ...x, replica: x.replica + offset, node: renamed.get(x.node)! });
        }
        for (const u of p.unplaced) out.unplaced.push({ ...u, replica: u.replica + offset });
      });
      out.costPerHour = costOf(out.newNodes, problem.catalog);
      return out;
    };
    const candidate = this.make(
      parts.flatMap((p) => p.bought),
      parts.reduce((s, p) => s + p.unplaced, 0),
      plan,
    );
    return { candidate, value: parts.reduce((s, p) => s + p.value, 0), bound: -Infinity };
  }

  /** The unplaced price of demand i, or undefined when some SKU outside every quota hosts it. */
  private unplacedOf(i: number, prices: Prices): number | undefined {
    return this.limited[i] ? prices.unplaced : undefined;
  }

  /** A candidate from the solver's values, decoded only if the plan is ever asked for. */
  private fromModel(pm: PackingModel, values: readonly number[], agg = this.agg!): Candidate {
    const catalog = this.type.problem.catalog;
    const bought: SkuSpec[] = [];
    for (const p of pm.purchases) {
      const count = Math.round(values[p.col] ?? 0) * p.nodes;
      for (let i = 0; i < count; i++) bought.push(catalog[p.sku]!);
    }
    let unplaced = 0;
    for (const col of pm.u.values()) unplaced += Math.round(values[col] ?? 0);
    return this.make(bought, unplaced, () => decode(agg, pm, values));
  }

  /** A candidate; its plan is built at most once, when first asked for. */
  private make(bought: readonly SkuSpec[], unplaced: number, build: () => DecodedPlan): Candidate {
    let built: DecodedPlan | undefined;
    const plan = () => (built ??= build());
    const use = this.families.map(() => 0);
    let price = 0;
    for (const sku of bought) {
      price += sku.pricePerHour;
      const i = this.family.get(sku.family);
      if (i !== undefined) use[i]! += sku.vcpus;
    }
    const cost = Math.round(price * 1e6) / 1e6 + unplaced * this.unplacedPrice;
    const signature = `${bought
      .map((s) => s.name)
      .sort()
      .join(",")}|${unplaced}`;
    return { plan, cost, use, unplaced, signature };
  }
}

/**
 * The existing nodes' free GPUs shared out among the demands they serve: node by node, the
 * demand that saves most per GPU there (its cheapest new node's price per replica over the GPUs
 * it takes) goes first. Replicas are numbered from 0 per demand.
 */
function existingShares(
  problem: Problem,
  price: NodePrice,
  shapes: readonly (readonly Shape[])[],
): { taken: number[]; placements: Placement[] } {
  const taken = problem.demands.map(() => 0);
  const placements: Placement[] = [];
  if (problem.nodes.length === 0) return { taken, placements };
  const skuIndex = new Map(problem.catalog.map((s, i) => [s.name, i]));
  const perReplica = shapes.map((row) => leastPerReplica(row, problem.catalog, price));
  for (const node of problem.nodes) {
    let free = node.freeGpus;
    const s = skuIndex.get(node.sku)!;
    const fits = problem.demands
      .map((d, i) => ({ d, i, shape: shapes[i]![s]! }))
      .filter((x) => x.shape.kind === "single" && labelsInclude(node.labels, x.d.labels))
      .sort((a, b) => perReplica[b.i]! / gpus(b.shape) - perReplica[a.i]! / gpus(a.shape) || a.i - b.i);
    for (const { d, i, shape } of fits) {
      const k = gpus(shape);
      while (free >= k && taken[i]! < d.replicas) {
        placements.push({ demand: d.name, replica: taken[i]!, node: node.name, gpus: k });
        taken[i]!++;
        free -= k;
      }
    }
  }
  return { taken, placements };
}

/** A replica's least share of a new node's price: its GPUs' part of one node, or its nodes. */
function leastPerReplica(row: readonly Shape[], catalog: readonly SkuSpec[], price: NodePrice): number {
  let least = Infinity;
  row.forEach((shape, s) => {
    const sku = catalog[s]!;
    if (shape.kind === "single") least = Math.min(least, (shape.gpus / sku.gpus) * price(sku));
    else if (shape.kind === "multi") least = Math.min(least, shape.nodes * price(sku));
  });
  return least;
}

function gpus(shape: Shape): number {
  return shape.kind === "ineligible" ? Infinity : shape.gpus;
}

export function nodePrice(prices: Prices): NodePrice {
  return (sku: SkuSpec) => sku.pricePerHour + (prices.quota[sku.family] ?? 0) * sku.vcpus;
}

/**
 * A lower bound on any plan of `problem` at `prices`: each replica pays at least its GPUs'
 * share of the cheapest node that can host it (or, when that is dearer, the unplaced price of a
 * demand under quota everywhere), less what the existing nodes' free GPUs could save at most.
 * Weak where nodes are left part empty, but free and always valid.
 */
export function fractionalBound(
  problem: Problem,
  prices: Prices,
  shapes: readonly (readonly Shape[])[] = problem.demands.map((d) =>
    problem.catalog.map((s) => shapeOn(d, s)),
  ),
): number {
  const price = nodePrice(prices);
  const least = shapes.map((row) => {
    const limited = row.every(
      (x, s) => x.kind === "ineligible" || problem.quota[problem.catalog[s]!.family] !== undefined,
    );
    const best = leastPerReplica(row, problem.catalog, price);
    return limited ? Math.min(best, prices.unplaced) : best;
  });
  const sum = problem.demands.reduce((total, d, i) => total + d.replicas * least[i]!, 0);
  // A free GPU on an existing node saves at most the best per-GPU saving of any demand there.
  let savings = 0;
  const skuIndex = new Map(problem.catalog.map((s, i) => [s.name, i]));
  for (const node of problem.nodes) {
    let perGpu = 0;
    const s = skuIndex.get(node.sku)!;
    shapes.forEach((row, i) => {
      const shape = row[s]!;
      if (shape.kind === "single" && shape.gpus <= node.freeGpus)
        perGpu = Math.max(perGpu, least[i]! / shape.gpus);
    });
    savings += perGpu * node.freeGpus;
  }
  return Math.max(0, sum - savings);
}
