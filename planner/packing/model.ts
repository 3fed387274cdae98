import type { MilpColumn, MilpModel, MilpRow } from "../solver/types.ts";
import { gpusOnExisting, roomFor, type Aggregate, type NodeClass } from "./classes.ts";
import { capacityFor, isPowerOfTwo } from "./rules.ts";
import type { SkuSpec } from "./types.ts";

/**
 * The packing MILP over an Aggregate.
 *
 * A slot is a place where replicas of one size go: new single nodes of SKU s for label group L
 * with k GPUs per replica (L,s,k); whole new nodes of s for multi-node replicas of k GPUs
 * (L,s,k); existing nodes of node class e for group L's replicas of k GPUs (e,L,k), which a
 * pool (L,s,k) feeds so that a class needs one column per SKU, not one per node class.
 * Variables:
 * - slot counts, integer: how many replicas each slot takes;
 * - n[L,s], integer: new single nodes of SKU s for group L;
 * - assignments, continuous: replicas of class c in a slot or pool (y, w, x), and u[c],
 *   unplaced.
 * Classes, pools and slots form a network: for integer slot counts its vertices are integer,
 * so assignments need no integrality. Branching then never has to choose between classes that
 * fit the same slot, which is what made a class-by-SKU integer model stall.
 *
 * Capacity without patterns: replica sizes are powers of two, and a bin of g GPUs holds a set of
 * power-of-two items iff their sum is at most g. A set of such items fits into bins b_1..b_N iff
 * for every power of two t, the items of size ≥ t total at most Σ_i ⌊b_i/t⌋·t (place items
 * largest first; every bin's remaining room above size t is a multiple of t, so room totals
 * translate into room for one more item). Hence one row per distinct size t is exact, and when
 * g is a power of two every ⌊g/t⌋·t equals g and the smallest t's row implies the others.
 */
export interface PackingModel {
  model: MilpModel;
  /** Label group of each column: the blocks that only quotas, shared nodes and Σu link. */
  blockOf: number[];
  /** Assignment columns by key(class, sku). */
  y: Map<string, number>;
  w: Map<string, number>;
  /** Assignment columns to existing nodes by key(class, sku). */
  x: Map<string, number>;
  /** Replicas existing node class e takes from group L's pool of size k, by `e:L:k`. */
  existing: Map<string, number>;
  /** Unplaced columns by class. */
  u: Map<number, number>;
  /** Columns that buy new nodes: each unit buys `nodes` nodes of catalogue entry `sku`. */
  purchases: { col: number; sku: number; nodes: number }[];
}

export type Objective =
  /** Maximise placed replicas (minimise Σu); costs are ignored. */
  | { kind: "placement" }
  /** Minimise cost with at most `maxUnplaced` unplaced replicas. */
  | { kind: "cost"; maxUnplaced: number }
  /**
   * Minimise cost plus prices: each vCPU of a quota family costs `quotaPrice[family]` more, an
   * unplaced replica costs `unplacedCost`, and no quota row holds. A label group's share of the
   * Lagrangian relaxation of the quotas (see lagrange.ts).
   */
  | {
      kind: "priced";
      quotaPrice: Readonly<Record<string, number>>;
      unplacedCost: number;
      /** Keep the quota rows too (a block planned within the quota the others leave it). */
      keepQuota?: boolean;
    };

export const key = (a: number, b: number) => `${a}:${b}`;

interface Slot {
  col: number;
  gpus: number;
  /** Most replicas the slot can ever take. */
  most: number;
}

export function buildModel(agg: Aggregate, objective: Objective): PackingModel {
  const { problem, classes, nodeClasses, groups } = agg;
  const catalog = problem.catalog;
  const columns: MilpColumn[] = [];
  const rows: MilpRow[] = [];
  const blockOf: number[] = [];
  const out: PackingModel = {
    model: { columns, rows },
    blockOf,
    y: new Map(),
    w: new Map(),
    x: new Map(),
    existing: new Map(),
    u: new Map(),
    purchases: [],
  };
  const forCost = objective.kind !== "placement";
  const priced = objective.kind === "priced" ? objective : undefined;
  /** A node's price, plus its vCPUs at the family's price when the quotas are priced. */
  const nodePrice = (sku: SkuSpec) => sku.pricePerHour + (priced?.quotaPrice[sku.family] ?? 0) * sku.vcpus;
  const addCol = (name: string, group: number, cost: number, ub: number, integer: boolean) => {
    columns.push({ name, cost: forCost ? cost : 0, lb: 0, ub, integer });
    blockOf.push(group);
    return columns.length - 1;
  };
  const row = (name: string, lb: number, ub: number): MilpRow => ({ name, lb, ub, cols: [], coefs: [] });
  const push = (r: MilpRow, col: number, coef: number) => {
    r.cols.push(col);
    r.coefs.push(coef);
  };
  const demandRows = classes.map((c) => row(`demand_c${c.id}`, c.replicas, c.replicas));
  const slotRows: MilpRow[] = [];

  /** A slot of `members` (class and its replicas) sized `gpus`, with its count column. */
  const slot = (
    name: string,
    group: number,
    gpus: number,
    cost: number,
    cap: number,
    members: { id: number; replicas: number }[],
    register: (classId: number, col: number) => void,
  ): Slot => {
    const most = Math.min(
      cap,
      members.reduce((s, m) => s + m.replicas, 0),
    );
    const count = addCol(`${name}`, group, cost, most, true);
    const link = row(`${name}_link`, 0, 0);
    push(link, count, -1);
    for (const m of members) {
      const col = addCol(`${name}_c${m.id}`, group, 0, Math.min(m.replicas, most), false);
      register(m.id, col);
      push(demandRows[m.id]!, col, 1);
      push(link, col, 1);
    }
    slotRows.push(link);
    return { col: count, gpus, most };
  };

  // Existing nodes. Replicas of group L needing k GPUs of SKU s go to a pool (L,s,k), which
  // hands them to the node classes of s serving L; the classes' rows bound what they take.
  const nodeSlots = nodeClasses.map(() => [] as Slot[]);
  for (const group of groups) {
    const pools = new Map<string, { sku: number; k: number; members: typeof classes }>();
    for (const c of classes) {
      if (c.group !== group.id) continue;
      for (const nc of nodeClasses) {
        const k = gpusOnExisting(c, nc);
        if (k === undefined) continue;
        const id = key(nc.sku, k);
        const pool = pools.get(id) ?? { sku: nc.sku, k, members: [] };
        if (!pool.members.includes(c)) pool.members.push(c);
        pools.set(id, pool);
      }
    }
    for (const { sku, k, members } of pools.values()) {
      const name = `x_g${group.id}_s${sku}_k${k}`;
      const link = row(`${name}_link`, 0, 0);
      let most = 0;
      for (const c of members) {
        const col = addCol(`${name}_c${c.id}`, group.id, 0, c.replicas, false);
        out.x.set(key(c.id, sku), col);
        push(demandRows[c.id]!, col, 1);
        push(link, col, 1);
        most += c.replicas;
      }
      for (const nc of nodeClasses) {
        if (nc.sku !== sku || !nc.groups.has(group.id) || nc.maxFree < k) continue;
        const cap = Math.min(most, roomFor(nc, k) / k);
        const col = addCol(`${name}_e${nc.id}`, group.id, 0, cap, true);
        out.existing.set(`${nc.id}:${group.id}:${k}`, col);
        push(link, col, -1);
        nodeSlots[nc.id]!.push({ col, gpus: k, most: cap });
      }
      slotRows.push(link);
    }
  }
  const existingRows = nodeClasses.flatMap((nc) => capacityRows(`existing_e${nc.id}`, nodeSlots[nc.id]!, nc));

  // New nodes, per label group and SKU, and multi-node replicas.
  const quotaRows = new Map<string, MilpRow>();
  const quota = (family: string) => {
    let r = quotaRows.get(family);
    if (!r) {
      r = row(`quota_${family}`, -Infinity, problem.quota[family]!);
      quotaRows.set(family, r);
    }
    return r;
  };
  const capRows: MilpRow[] = [];
  for (const group of groups) {
    const members = classes.filter((c) => c.group === group.id);
    catalog.forEach((sku, s) => {
      const single = new Map<number, typeof classes>();
      const multi = new Map<number, { nodes: number; members: typeof classes }>();
      for (const c of members) {
        const shape = c.shapes[s]!;
        if (shape.kind === "single") single.set(shape.gpus, [...(single.get(shape.gpus) ?? []), c]);
        if (shape.kind === "multi") {
          const m = multi.get(shape.gpus) ?? { nodes: shape.nodes, members: [] };
          m.members.push(c);
          multi.set(shape.gpus, m);
        }
      }
      const limited = problem.quota[sku.family] !== undefined && (!priced || priced.keepQuota === true);
      for (const [k, m] of multi) {
        const w = slot(
          `w_g${group.id}_s${s}_k${k}`,
          group.id,
          k,
          m.nodes * nodePrice(sku),
          Infinity,
          m.members,
          (c, col) => out.w.set(key(c, s), col),
        );
        out.purchases.push({ col: w.col, sku: s, nodes: m.nodes });
        if (limited) push(quota(sku.family), w.col, m.nodes * sku.vcpus);
      }
      if (single.size === 0) return;
      const slots = [...single].map(([k, list]) =>
        slot(`y_g${group.id}_s${s}_k${k}`, group.id, k, 0, Infinity, list, (c, col) =>
          out.y.set(key(c, s), col),
        ),
      );
      const nodesUb = slots.reduce((sum, q) => sum + Math.ceil(q.most / Math.floor(sku.gpus / q.gpus)), 0);
      const n = addCol(`n_g${group.id}_s${s}`, group.id, nodePrice(sku), nodesUb, true);
      out.purchases.push({ col: n, sku: s, nodes: 1 });
      if (limited) push(quota(sku.family), n, sku.vcpus);
      capRows.push(...capacityRows(`new_g${group.id}_s${s}`, slots, sku, n));
    });
  }

  // Unplaced replicas: continuous like the other assignments. None at all when the cost phase
  // may leave none unplaced: a row Σu ≤ 0 would only link every block for nothing.
  const unplaced = row("unplaced", -Infinity, objective.kind === "cost" ? objective.maxUnplaced : Infinity);
  const placeAll = objective.kind === "cost" && objective.maxUnplaced <= 0;
  for (const c of classes) {
    if (!c.limited || placeAll) continue;
    const col = columns.length;
    const cost = priced ? priced.unplacedCost : forCost ? 0 : 1;
    columns.push({ name: `u_c${c.id}`, cost, lb: 0, ub: c.replicas, integer: false });
    blockOf.push(c.group);
    out.u.set(c.id, col);
    push(demandRows[c.id]!, col, 1);
    push(unplaced, col, 1);
  }
  // Appended one by one: a spread of a fleet's rows overflows the call stack.
  for (const list of [demandRows, slotRows, capRows, existingRows, [...quotaRows.values()]]) {
    for (const r of list) rows.push(r);
  }
  if (objective.kind === "cost" && unplaced.cols.length > 0) rows.push(unplaced);
  return out;
}

/**
 * Rows saying the slots' replicas fit: into the existing nodes of a node class, or into
 * `nodesCol` new nodes of a SKU. One row per distinct replica size t (see above); for new nodes
 * of a power-of-two size the smallest t's row implies the others.
 *
 * For new nodes the coefficient of the count is min(⌊G/t⌋·t, the most GPUs those slots can
 * ever ask for): still valid, since one node then holds them all, and it stops the LP from
 * buying a quarter of a node for one small replica.
 */
function capacityRows(name: string, slots: Slot[], bins: NodeClass): MilpRow[];
function capacityRows(name: string, slots: Slot[], bins: SkuSpec, nodesCol: number): MilpRow[];
function capacityRows(name: string, slots: Slot[], bins: NodeClass | SkuSpec, nodesCol?: number): MilpRow[] {
  if (slots.length === 0) return [];
  const sizes = [...new Set(slots.map((q) => q.gpus))].sort((a, b) => a - b);
  const thresholds = "gpus" in bins && isPowerOfTwo(bins.gpus) ? sizes.slice(0, 1) : sizes;
  return thresholds.map((t) => {
    const big = slots.filter((q) => q.gpus >= t);
    const r: MilpRow = {
      name: `${name}_t${t}`,
      lb: -Infinity,
      ub: "gpus" in bins ? 0 : roomFor(bins, t),
      cols: big.map((q) => q.col),
      coefs: big.map((q) => q.gpus),
    };
    if ("gpus" in bins && nodesCol !== undefined) {
      const most = big.reduce((sum, q) => sum + q.gpus * q.most, 0);
      r.cols.push(nodesCol);
      r.coefs.push(-Math.min(capacityFor(bins.gpus, t), most));
    }
    return r;
  });
}
