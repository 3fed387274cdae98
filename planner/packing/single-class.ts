import { costOf, nodeNamer, type DecodedPlan } from "./decode.ts";
import { quotaReason } from "./reasons.ts";
import { shapeOn, type Shape } from "./rules.ts";
import type { NewNode, Placement, Problem, SkuSpec, Unplaced } from "./types.ts";

/** What a node of a SKU costs in a priced objective (its price, plus its vCPUs at the quota's price). */
export type NodePrice = (sku: SkuSpec) => number;

/** The cheapest plan of one demand at some prices, its plan built only when asked for. */
export interface DemandChoice {
  /** Σ node prices + unplacedCost per unplaced replica. */
  value: number;
  /** One entry per new node bought. */
  bought: SkuSpec[];
  unplaced: number;
  plan(): DecodedPlan;
}

interface NewOption {
  sku: SkuSpec;
  /** Replicas one purchase hosts: ⌊G/k⌋ on one node, or 1 for a replica spanning nodes. */
  cap: number;
  /** GPUs each replica takes on each of its nodes. */
  gpus: number;
  /** Nodes one purchase buys. */
  nodes: number;
  cost: number;
}

/**
 * The cheapest plan for a problem of one demand whose existing nodes all carry its labels: the
 * common case of a workspace with a labelSelector of its own. Its replicas are interchangeable,
 * so the existing nodes' free GPUs (free of charge) come first, and the rest is a covering
 * knapsack over the new-node options, solved exactly by a recurrence over the replica count:
 * best(j) = min over options of cost + best(j − replicas the option hosts). An unplaced replica
 * is an option too, at `unplacedCost`, when given (a demand whose every SKU is under quota).
 *
 * Exact: nodes of one demand do not interact, so any plan is a multiset of purchases and the
 * recurrence enumerates every multiset's cost. Ties go to the smaller node, as
 * smaller-nodes.ts prefers.
 */
export function singleDemandPlan(
  problem: Problem,
  price: NodePrice,
  unplacedCost: number | undefined,
): DemandChoice {
  return new DemandOptions(problem).at(price, unplacedCost);
}

/**
 * What singleDemandPlan works from, for one problem at many prices: the existing nodes' share
 * and the new-node options, worked out once; only their prices change between calls.
 */
export class DemandOptions {
  private readonly problem: Problem;
  private readonly onExisting: { node: string; gpus: number; count: number }[] = [];
  private readonly options: NewOption[] = [];
  /** Replicas left for new nodes once the existing nodes are full. */
  private readonly left: number;

  /** `shapes`: the demand's shape on each catalogue entry, when the caller has them. */
  constructor(problem: Problem, shapeList?: readonly Shape[]) {
    this.problem = problem;
    const demand = problem.demands[0]!;
    const shapes = new Map(problem.catalog.map((s, i) => [s.name, shapeList?.[i] ?? shapeOn(demand, s)]));
    let replica = 0;
    const byName = [...problem.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const node of byName) {
      const shape = shapes.get(node.sku);
      if (shape?.kind !== "single" || replica >= demand.replicas) continue;
      const count = Math.min(Math.floor(node.freeGpus / shape.gpus), demand.replicas - replica);
      if (count === 0) continue;
      this.onExisting.push({ node: node.name, gpus: shape.gpus, count });
      replica += count;
    }
    this.left = demand.replicas - replica;
    for (const sku of problem.catalog) {
      const shape = shapes.get(sku.name)!;
      if (shape.kind === "single") {
        this.options.push({
          sku,
          cap: Math.floor(sku.gpus / shape.gpus),
          gpus: shape.gpus,
          nodes: 1,
          cost: 0,
        });
      } else if (shape.kind === "multi") {
        this.options.push({ sku, cap: 1, gpus: sku.gpus, nodes: shape.nodes, cost: 0 });
      }
    }
    // Ties go to the smaller purchase.
    this.options.sort(
      (a, b) =>
        a.sku.gpus * a.nodes - b.sku.gpus * b.nodes ||
        (a.sku.name < b.sku.name ? -1 : a.sku.name > b.sku.name ? 1 : 0),
    );
  }

  /** The cheapest plan at `price`; `replicas` (default all) of the demand's replicas only. */
  at(price: NodePrice, unplacedCost: number | undefined, replicas?: number): DemandChoice {
    const { problem, onExisting } = this;
    const left = replicas === undefined ? this.left : Math.min(this.left, replicas);
    const demand = problem.demands[0]!;
    const options = this.options.map((o) => ({ ...o, cost: o.nodes * price(o.sku) }));
    const best = new Float64Array(left + 1);
    // -1: leave one replica unplaced; otherwise the option bought last.
    const choice = new Int32Array(left + 1);
    for (let j = 1; j <= left; j++) {
      let value = unplacedCost === undefined ? Infinity : unplacedCost + best[j - 1]!;
      let pick = -1;
      for (let i = 0; i < options.length; i++) {
        const o = options[i]!;
        const v = o.cost + best[Math.max(0, j - o.cap)]!;
        if (v < value - 1e-9 * Math.max(1, Math.abs(value)) || (pick === -1 && v <= value)) {
          value = v;
          pick = i;
        }
      }
      best[j] = value;
      choice[j] = pick;
    }
    if (!Number.isFinite(best[left]!)) {
      throw new Error(`internal: demand ${demand.name} has no SKU to place it on and may not go unplaced`);
    }

    // The purchases, last first, and the replicas left unplaced.
    const picks: NewOption[] = [];
    let unplacedCount = 0;
    for (let j = left; j > 0;) {
      const pick = choice[j]!;
      if (pick === -1) {
        unplacedCount++;
        j--;
        continue;
      }
      picks.push(options[pick]!);
      j -= Math.min(options[pick]!.cap, j);
    }
    const bought: SkuSpec[] = [];
    for (const o of picks) for (let i = 0; i < o.nodes; i++) bought.push(o.sku);

    const plan = (): DecodedPlan => {
      const placements: Placement[] = [];
      const newNodes: NewNode[] = [];
      const unplaced: Unplaced[] = [];
      let r = 0;
      for (const e of onExisting) {
        for (let i = 0; i < e.count; i++)
          placements.push({ demand: demand.name, replica: r++, node: e.node, gpus: e.gpus });
      }
      const name = nodeNamer(new Set(problem.nodes.map((n) => n.name)));
      let rest = left;
      for (const o of picks) {
        const hosted = Math.min(o.cap, rest);
        rest -= hosted;
        if (o.nodes > 1) {
          const one = r++;
          for (let i = 0; i < o.nodes; i++) {
            const node = name(o.sku);
            newNodes.push({ name: node, sku: o.sku.name, labels: demand.labels });
            placements.push({ demand: demand.name, replica: one, node, gpus: o.gpus });
          }
          continue;
        }
        const node = name(o.sku);
        newNodes.push({ name: node, sku: o.sku.name, labels: demand.labels });
        for (let i = 0; i < hosted; i++)
          placements.push({ demand: demand.name, replica: r++, node, gpus: o.gpus });
      }
      if (unplacedCount > 0) {
        const reason = quotaReason(demand, problem);
        for (let i = 0; i < unplacedCount; i++)
          unplaced.push({ demand: demand.name, replica: r++, code: "QuotaExhausted", reason });
      }
      return { newNodes, placements, unplaced, costPerHour: costOf(newNodes, problem.catalog) };
    };
    return { value: best[left]!, bought, unplaced: unplacedCount, plan };
  }
}
