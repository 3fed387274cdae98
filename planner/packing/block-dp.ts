import { costOf, nodeNamer, type DecodedPlan } from "./decode.ts";
import { quotaReason } from "./reasons.ts";
import { isPowerOfTwo, labelKey, labelsInclude, shapeOn, type Shape } from "./rules.ts";
import type { NodePrice } from "./single-class.ts";
import type { NewNode, Placement, Problem, SkuSpec, Unplaced } from "./types.ts";

/**
 * The cheapest plan of a small block (a team's label group, or a few groups linked by existing
 * nodes) at given node prices, exactly, by dynamic programming over its replicas.
 *
 * Why it is exact. Replicas are taken largest first (by GPU memory, so on every SKU each needs
 * no more GPUs than the one before). A replica goes to an existing node with room, into the open
 * new node of its group and SKU, onto a new node of that SKU (which becomes the open one),
 * onto whole new nodes (a multi-node replica), or stays unplaced (at the unplaced price, for a
 * demand whose every SKU is under quota). With power-of-two replica sizes taken largest first
 * and power-of-two node sizes, the room left in a node is a multiple of every later size, so
 * filling one node at a time (next fit) uses ⌈GPUs / node GPUs⌉ nodes, the least possible, and
 * the state (free GPUs on each existing node and in each open node) is all the past that
 * matters. States with the same free GPUs keep the cheapest, and a state that cannot beat the
 * best plan known (its cost plus a lower bound on what the rest must cost) is dropped.
 *
 * BlockDp.solve returns undefined when the block is not of that form (a SKU whose GPU count is
 * not a power of two) or the states it would visit exceed `maxWork`: the solver takes it then.
 * Most teams take a few hundred; a block with dozens of replicas and existing nodes can take
 * millions.
 */
export interface BlockChoice {
  value: number;
  /** The least value of any plan (false: the best of a narrow search only). */
  exact: boolean;
  /** One entry per new node bought. */
  bought: SkuSpec[];
  unplaced: number;
  plan(): DecodedPlan;
}

export interface DpOptions {
  /** A plan's value known to be reachable: states that cannot beat it are dropped. */
  upperBound?: number;
  /** Moves to try at most before giving up (default 20,000). */
  maxWork?: number;
  /**
   * Keep only this many states per replica: a quick plan that shares nodes as the exact one
   * does, without the proof.
   */
  beam?: number;
}

const EXISTING = 0;
const FILL = 1;
const OPEN = 2;
const MULTI = 3;
const UNPLACED = 4;

interface Move {
  kind: number;
  /** State dimension it reads or writes, or -1. */
  dim: number;
  gpus: number;
  sku?: SkuSpec;
  /** Free GPUs of the dimension after an OPEN. */
  rest: number;
  nodes: number;
}

interface Dim {
  cap: number;
  /** Existing node name, or the open node's group key and SKU. */
  node?: string;
  group?: string;
  sku?: SkuSpec;
}

interface Layer {
  keys: number[];
  cost: number[];
  /** cost + the lower bound on the rest: what the state can achieve at best. */
  reach: number[];
  prev: number[];
  move: number[];
}

/** The DP's structure for one block, worked out once; only prices change between solves. */
export class BlockDp {
  private readonly problem: Problem;
  private readonly dims: Dim[] = [];
  /** Per demand: its moves, without prices. */
  private readonly moves: Move[][];
  /** Demand of each step: replicas largest first, those of one demand together. */
  private readonly order: number[];
  private readonly radix: number[];
  private readonly weight: number[] = [];
  private readonly start: number;
  /** Undefined when the block is not of the DP's form (see above). */
  readonly usable: boolean;

  /** `shapes[i][s]`: demand i's shape on catalogue entry s, when the caller has them. */
  constructor(problem: Problem, shapeTable?: readonly (readonly Shape[])[]) {
    this.problem = problem;
    const { catalog, demands } = problem;
    const dims = this.dims;
    const groupOf = demands.map((d) => labelKey(d.labels));
    const shapes = shapeTable ?? demands.map((d) => catalog.map((s) => shapeOn(d, s)));
    // Dimensions: each existing node's free GPUs, and the open node of each (group, SKU) that
    // two replicas could share.
    const existingDim = new Map<string, number>();
    for (const node of problem.nodes) {
      if (node.freeGpus <= 0) continue;
      existingDim.set(node.name, dims.length);
      dims.push({ cap: node.freeGpus, node: node.name });
    }
    const openDim = new Map<string, number>();
    demands.forEach((_, i) => {
      catalog.forEach((sku, s) => {
        const shape = shapes[i]![s]!;
        if (shape.kind !== "single" || shape.gpus >= sku.gpus) return;
        const key = `${groupOf[i]}\u0000${s}`;
        if (!openDim.has(key)) {
          openDim.set(key, dims.length);
          dims.push({ cap: sku.gpus - 1, group: groupOf[i], sku });
        }
      });
    });
    const skuIndex = new Map(catalog.map((s, i) => [s.name, i]));
    this.moves = demands.map((d, i) => {
      const out: Move[] = [];
      for (const node of problem.nodes) {
        const dim = existingDim.get(node.name);
        if (dim === undefined || !labelsInclude(node.labels, d.labels)) continue;
        const shape = shapes[i]![skuIndex.get(node.sku)!]!;
        if (shape.kind === "single") out.push({ kind: EXISTING, dim, gpus: shape.gpus, rest: 0, nodes: 0 });
      }
      catalog.forEach((sku, s) => {
        const shape = shapes[i]![s]!;
        if (shape.kind === "single") {
          const dim = openDim.get(`${groupOf[i]}\u0000${s}`) ?? -1;
          if (dim >= 0) out.push({ kind: FILL, dim, gpus: shape.gpus, rest: 0, nodes: 0 });
          out.push({
            kind: OPEN,
            dim,
            gpus: shape.gpus,
            sku,
            rest: sku.gpus - shape.gpus,
            nodes: 1,
          });
        } else if (shape.kind === "multi") {
          out.push({ kind: MULTI, dim: -1, gpus: sku.gpus, sku, rest: 0, nodes: shape.nodes });
        }
      });
      out.push({ kind: UNPLACED, dim: -1, gpus: 0, rest: 0, nodes: 0 });
      return out;
    });
    this.order = demands
      .map((d, i) => ({ i, gib: d.totalGpuMemoryGiB }))
      .sort((a, b) => b.gib - a.gib || a.i - b.i)
      .flatMap(({ i }) => Array.from({ length: demands[i]!.replicas }, () => i));
    this.radix = dims.map((d) => d.cap + 1);
    let w = 1;
    for (const r of this.radix) {
      this.weight.push(w);
      w *= r;
    }
    let start = 0;
    dims.forEach((d, i) => {
      if (d.node !== undefined) start += d.cap * this.weight[i]!;
    });
    this.start = start;
    this.usable =
      Number.isSafeInteger(w) && [...openDim.values()].every((d) => isPowerOfTwo(dims[d]!.sku!.gpus));
  }

  /** The cheapest plan at `price`, or undefined (see blockDp). */
  solve(
    price: NodePrice,
    unplacedPrice: (demand: number) => number | undefined,
    options: DpOptions = {},
  ): BlockChoice | undefined {
    if (!this.usable) return undefined;
    const { problem, dims, order, radix, weight } = this;
    const { catalog, demands } = problem;
    const upperBound = options.upperBound ?? Infinity;
    const maxWork = options.maxWork ?? 20_000;
    const steps = order.length;

    // Moves at these prices (Infinity: not allowed), and each demand's least fractional price
    // per replica.
    const least = new Float64Array(demands.length);
    const costs = this.moves.map((list, i) => {
      const u = unplacedPrice(i);
      let cheapest = u ?? Infinity;
      const out = new Float64Array(list.length);
      for (let m = 0; m < list.length; m++) {
        const mv = list[m]!;
        if (mv.kind === UNPLACED) out[m] = u ?? Infinity;
        else if (mv.kind === OPEN || mv.kind === MULTI) {
          const cost = mv.nodes * price(mv.sku!);
          out[m] = cost;
          cheapest = Math.min(cheapest, mv.kind === OPEN ? (mv.gpus / mv.sku!.gpus) * cost : cost);
        }
      }
      least[i] = cheapest;
      return out;
    });
    const moves = this.moves;
    // What the replicas from step t on must pay at least, and the most a free GPU of each
    // dimension could save them (the best price per GPU of any of them there). Steps of one
    // demand are contiguous, so the credits change only where the demand does.
    const rest = new Float64Array(steps + 1);
    const credit: Float64Array[] = new Array<Float64Array>(steps + 1);
    credit[steps] = new Float64Array(dims.length);
    for (let t = steps - 1; t >= 0; t--) {
      const i = order[t]!;
      rest[t] = rest[t + 1]! + least[i]!;
      if (t + 1 < steps && order[t + 1] === i) {
        credit[t] = credit[t + 1]!;
        continue;
      }
      const c = new Float64Array(credit[t + 1]!);
      for (const m of moves[i]!) {
        if (m.kind === EXISTING || m.kind === FILL) c[m.dim] = Math.max(c[m.dim]!, least[i]! / m.gpus);
      }
      credit[t] = c;
    }

    const free = new Int32Array(dims.length);
    /**
     * One pass over the replicas keeping at most `beam` states per step (the most promising),
     * dropping states that cannot reach `limit`. Exhaustive when `beam` is Infinity. Undefined
     * when it would take more than `budget` moves.
     */
    const sweep = (beam: number, limit: number, budget: number): Layer[] | undefined => {
      const layers: Layer[] = [{ keys: [this.start], cost: [0], reach: [rest[0]!], prev: [-1], move: [-1] }];
      let work = 0;
      for (let t = 0; t < steps; t++) {
        const from = layers[t]!;
        const next: Layer = { keys: [], cost: [], reach: [], prev: [], move: [] };
        const index = new Map<number, number>();
        const list = moves[order[t]!]!;
        const price = costs[order[t]!]!;
        const wNext = credit[t + 1]!;
        for (let a = 0; a < from.keys.length; a++) {
          work += list.length;
          if (work > budget) return undefined;
          const key = from.keys[a]!;
          const base = from.cost[a]!;
          let saved = 0;
          for (let d = 0; d < dims.length; d++) {
            free[d] = Math.floor(key / weight[d]!) % radix[d]!;
            saved += free[d]! * wNext[d]!;
          }
          for (let m = 0; m < list.length; m++) {
            const mv = list[m]!;
            const moveCost = price[m]!;
            if (moveCost === Infinity) continue;
            let to = key;
            let save = saved;
            if (mv.kind === EXISTING || mv.kind === FILL) {
              if (free[mv.dim]! < mv.gpus) continue;
              to -= mv.gpus * weight[mv.dim]!;
              save -= mv.gpus * wNext[mv.dim]!;
            } else if (mv.kind === OPEN && mv.dim >= 0) {
              const delta = mv.rest - free[mv.dim]!;
              to += delta * weight[mv.dim]!;
              save += delta * wNext[mv.dim]!;
            }
            const cost = base + moveCost;
            const reach = cost + Math.max(0, rest[t + 1]! - save);
            if (reach > limit) continue;
            const at = index.get(to);
            if (at === undefined) {
              index.set(to, next.keys.length);
              next.keys.push(to);
              next.cost.push(cost);
              next.reach.push(reach);
              next.prev.push(a);
              next.move.push(m);
            } else if (cost < next.cost[at]! - 1e-12) {
              next.cost[at] = cost;
              next.reach[at] = reach;
              next.prev[at] = a;
              next.move[at] = m;
            }
          }
        }
        layers.push(next.keys.length > beam ? narrow(next, beam) : next);
        if (next.keys.length === 0) break;
      }
      return layers;
    };

    const slack = (x: number) => x + 1e-9 * Math.max(1, Math.abs(x));
    let limit = slack(upperBound);
    let layers: Layer[] | undefined;
    let exact = false;
    if (options.beam !== undefined) {
      layers = sweep(options.beam, limit, maxWork);
      if (!layers?.[steps]?.keys.length) return undefined;
    } else {
      // A narrow sweep first, unless the caller knows a plan: a good plan quickly, whose cost
      // then prunes the exhaustive one.
      const narrowed = options.upperBound === undefined ? sweep(4, limit, maxWork) : undefined;
      if (narrowed?.[steps]?.keys.length) limit = Math.min(limit, slack(Math.min(...narrowed[steps]!.cost)));
      const full = sweep(Infinity, limit, maxWork);
      if (!full) return undefined;
      exact = true;
      layers = full[steps]?.keys.length ? full : narrowed;
      if (!layers?.[steps]?.keys.length) {
        // Nothing beats the upper bound: the caller's plan is optimal.
        return { value: Infinity, exact, bought: [], unplaced: 0, plan: () => emptyPlan() };
      }
    }

    const last = layers[steps]!;
    let bestAt = 0;
    for (let a = 1; a < last.keys.length; a++) if (last.cost[a]! < last.cost[bestAt]!) bestAt = a;
    // The path back to the start: one move per replica.
    const path = new Array<Move>(steps);
    for (let t = steps, a = bestAt; t > 0; t--) {
      const layer = layers[t]!;
      path[t - 1] = moves[order[t - 1]!]![layer.move[a]!]!;
      a = layer.prev[a]!;
    }
    const bought: SkuSpec[] = [];
    let unplaced = 0;
    for (const mv of path) {
      if (mv.kind === OPEN || mv.kind === MULTI) for (let i = 0; i < mv.nodes; i++) bought.push(mv.sku!);
      if (mv.kind === UNPLACED) unplaced++;
    }

    const plan = (): DecodedPlan => {
      const name = nodeNamer(new Set(problem.nodes.map((n) => n.name)));
      const newNodes: NewNode[] = [];
      const placements: Placement[] = [];
      const unplacedOut: Unplaced[] = [];
      const openNode = new Map<number, string>();
      const nextReplica = demands.map(() => 0);
      path.forEach((mv, t) => {
        const d = demands[order[t]!]!;
        const replica = nextReplica[order[t]!]!++;
        switch (mv.kind) {
          case EXISTING:
            placements.push({ demand: d.name, replica, node: dims[mv.dim]!.node!, gpus: mv.gpus });
            break;
          case FILL:
            placements.push({ demand: d.name, replica, node: openNode.get(mv.dim)!, gpus: mv.gpus });
            break;
          case OPEN: {
            const node = name(mv.sku!);
            newNodes.push({ name: node, sku: mv.sku!.name, labels: d.labels });
            placements.push({ demand: d.name, replica, node, gpus: mv.gpus });
            if (mv.dim >= 0) openNode.set(mv.dim, node);
            break;
          }
          case MULTI:
            for (let i = 0; i < mv.nodes; i++) {
              const node = name(mv.sku!);
              newNodes.push({ name: node, sku: mv.sku!.name, labels: d.labels });
              placements.push({ demand: d.name, replica, node, gpus: mv.gpus });
            }
            break;
          default:
            unplacedOut.push({
              demand: d.name,
              replica,
              code: "QuotaExhausted",
              reason: quotaReason(d, problem),
            });
        }
      });
      const byDemand = (a: { demand: string; replica: number }, b: { demand: string; replica: number }) =>
        a.demand < b.demand ? -1 : a.demand > b.demand ? 1 : a.replica - b.replica;
      placements.sort(byDemand);
      unplacedOut.sort(byDemand);
      return { newNodes, placements, unplaced: unplacedOut, costPerHour: costOf(newNodes, catalog) };
    };
    return { value: last.cost[bestAt]!, exact, bought, unplaced, plan };
  }
}

/** The `beam` states of least reach, in their original order (so `prev` indexes stay valid). */
function narrow<
  L extends { keys: number[]; cost: number[]; reach: number[]; prev: number[]; move: number[] },
>(layer: L, beam: number): L {
  // A beam is a handful of states: pick them by repeated scans rather than sorting the layer.
  const taken = new Set<number>();
  for (let k = 0; k < beam; k++) {
    let best = -1;
    for (let i = 0; i < layer.reach.length; i++) {
      if (!taken.has(i) && (best < 0 || layer.reach[i]! < layer.reach[best]!)) best = i;
    }
    taken.add(best);
  }
  const keep = [...taken].sort((a, b) => a - b);
  return {
    ...layer,
    keys: keep.map((i) => layer.keys[i]!),
    cost: keep.map((i) => layer.cost[i]!),
    reach: keep.map((i) => layer.reach[i]!),
    prev: keep.map((i) => layer.prev[i]!),
    move: keep.map((i) => layer.move[i]!),
  };
}

function emptyPlan(): DecodedPlan {
  return { newNodes: [], placements: [], unplaced: [], costPerHour: 0 };
}
