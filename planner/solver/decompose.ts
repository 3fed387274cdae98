import type { Clock } from "../../lib/clock.ts";
import type { MilpModel, MilpResult, MilpRow, MilpSolver } from "./types.ts";

/**
 * Solves a MILP whose columns fall into blocks that interact only through resource rows
 * (Σ a·x ≤ b with a ≥ 0 and x ≥ 0), block by block.
 *
 * Why: GLPK's branch-and-bound has no cuts and searches the product of the blocks' choices, so
 * a model of twenty loosely linked blocks stalls where each block alone solves in milliseconds
 * (DESIGN.md, Known pitfalls). Here every MILP is one block:
 * - candidates: each block solved within its share of the links in the LP optimum (rounded
 *   down, so any mix of them fits), and, when that leaves a gap, at the LP's prices for the
 *   links (the Lagrangian subproblem) and with the least use of the links it can manage;
 * - plan: a small master MILP picks one candidate per block so that the links hold, then
 *   each block is re-solved against what the others use, keeping improvements;
 * - bound: the LP relaxation, and the Lagrangian bound Σ z_b(λ) − λ·b with the LP duals as λ,
 *   which adds back the blocks' own integrality, where the LP is weak.
 */
export interface BlockSolveOptions {
  clock: Clock;
  /** clock.now() value by which to return. */
  deadline: number;
  /** Stop when (objective − bound) / objective is at most this. */
  mipGap: number;
}

/** Lagrangian rounds at most; each solves every block once, then pairs of blocks. */
const MAX_ROUNDS = 6;

export interface BlockResult extends MilpResult {
  /** Value of the LP relaxation, for reporting. */
  lpBound: number;
}

interface Block {
  cols: number[];
  colSet: Set<number>;
  rows: number[];
  links: number[];
  /** Solutions found so far, as values of `cols`. */
  candidates: Candidate[];
}

interface Candidate {
  values: number[];
  cost: number;
  /** Use of each of the block's links, parallel to Block.links. */
  use: number[];
}

export async function solveByBlocks(
  model: MilpModel,
  blockOf: readonly number[],
  solver: MilpSolver,
  options: BlockSolveOptions,
): Promise<BlockResult | undefined> {
  const split = splitModel(model, blockOf);
  if (!split) return undefined;
  const { blocks, links } = split;
  const { clock, deadline, mipGap } = options;
  const left = () => Math.max(1, deadline - clock.now());
  const trueCost = (j: number) => model.columns[j]!.cost;

  const lp = await solver.solve(model, { relax: true, timeLimitMs: left() });
  if (lp.status !== "optimal" || !lp.duals) return undefined;
  const lpBound = lp.objective;
  let bound = lpBound;
  let best: { values: number[]; objective: number } | undefined;
  const done = () => best !== undefined && closeEnough(best.objective, bound, mipGap);
  const settle = async () => {
    const picked = await master(model, blocks, links, solver, left());
    if (picked && (!best || picked.objective < best.objective - 1e-9)) best = picked;
  };

  // 1. Each block within its LP share of every link, rounded down. A block whose integer
  // needs exceed that (a replica that must have a whole node of a quota family) may also use
  // what the rounding left over, and failing that gets its footprint.
  const shares = blocks.map(
    (block) =>
      new Map(block.links.map((r) => [r, Math.floor(usage(model, r, lp.values, block.colSet) + 1e-9)])),
  );
  const spare = new Map(
    links.map((r) => [r, model.rows[r]!.ub - shares.reduce((s, m) => s + (m.get(r) ?? 0), 0)]),
  );
  for (const [i, block] of blocks.entries()) {
    const budget = left() / (2 * (blocks.length - i));
    const share = (r: number) => shares[i]!.get(r)!;
    if (await addCandidate(model, block, solver, trueCost, share, budget)) continue;
    if (await addCandidate(model, block, solver, trueCost, (r) => share(r) + spare.get(r)!, budget)) continue;
    await addFootprint(model, block, solver, budget);
  }
  await settle();
  if (done()) return finish();

  if (!best) {
    // Each block's least use of the links gives a mix that fits whenever the problem has a
    // solution at all.
    for (const [i, block] of blocks.entries()) {
      await addFootprint(model, block, solver, left() / (blocks.length - i));
    }
    await settle();
    if (!best) return undefined;
  }

  // 2. Each block against what the others use: cheap, and it spends what rounding left over.
  await improveWith(blocks.map((b) => [b]));
  if (done()) return finish();

  // 3. Alternate Lagrangian rounds (a bound, and the blocks' choices at the links' prices) with
  // pairs of blocks re-solved together, which can trade a link between them as no single block
  // can. The LP duals are the first prices; subgradient steps move them towards prices at
  // which the blocks' choices fit together, raising the bound and varying the candidates.
  const lambda = new Map(links.map((r) => [r, Math.max(0, -(lp.duals![r] ?? 0))]));
  let step = 1;
  let stalled = 0;
  for (let round = 0; round < MAX_ROUNDS && !done() && clock.now() < deadline; round++) {
    const priced = linkPrices(model, links, lambda);
    let value = -links.reduce((s, r) => s + lambda.get(r)! * model.rows[r]!.ub, 0);
    const used = new Map(links.map((r) => [r, 0]));
    for (const [i, block] of blocks.entries()) {
      const cost = (j: number) => trueCost(j) + (priced.get(j) ?? 0);
      const sub = subModel(model, block, cost, (r) => model.rows[r]!.ub);
      const r = await solver.solve(sub, {
        timeLimitMs: left() / (2 * (blocks.length - i)),
        mipGap: mipGap / 4,
      });
      const z = r.status === "optimal" && r.bound !== undefined ? r.bound : await relaxedValue(solver, sub);
      value += z ?? -Infinity;
      if (r.values.length === 0) continue;
      const cand = candidate(model, block, r.values);
      block.candidates.push(cand);
      block.links.forEach((link, k) => used.set(link, used.get(link)! + cand.use[k]!));
    }
    if (value > bound + 1e-9) {
      bound = value;
      stalled = 0;
    } else if (++stalled >= 2) {
      step /= 2;
      stalled = 0;
    }
    await settle();
    if (done() || clock.now() >= deadline) break;
    await improveWith(tightPairs(model, blocks, best!.values));

    // Polyak's step towards the best plan's objective.
    const slack = links.map((r) => used.get(r)! - model.rows[r]!.ub);
    const norm = slack.reduce((s, g) => s + g * g, 0);
    if (norm === 0) break;
    const t = (step * Math.max(1e-6 * Math.abs(best!.objective), best!.objective - value)) / norm;
    links.forEach((r, k) => lambda.set(r, Math.max(0, lambda.get(r)! + t * slack[k]!)));
  }
  return finish();

  async function improveWith(groups: Block[][]): Promise<void> {
    const improved = await improve(model, groups, best!.values, solver, left);
    if (improved.objective < best!.objective - 1e-9) best = improved;
  }

  function finish(): BlockResult {
    const { values, objective } = best!;
    return {
      status: closeEnough(objective, bound, mipGap) ? "optimal" : "feasible",
      objective,
      values,
      bound: Math.min(bound, objective),
      lpBound,
    };
  }
}

function closeEnough(objective: number, bound: number, gap: number): boolean {
  return objective - bound <= gap * Math.abs(objective) + 1e-7 * Math.max(1, Math.abs(objective));
}

/** Blocks with their columns, local rows and links; undefined if a link is not a resource row. */
function splitModel(
  model: MilpModel,
  blockOf: readonly number[],
): { blocks: Block[]; links: number[] } | undefined {
  const count = Math.max(-1, ...blockOf) + 1;
  const all: Block[] = Array.from({ length: count }, () => ({
    cols: [],
    colSet: new Set<number>(),
    rows: [],
    links: [],
    candidates: [],
  }));
  blockOf.forEach((b, j) => {
    all[b]!.cols.push(j);
    all[b]!.colSet.add(j);
  });
  const links: number[] = [];
  for (const [i, row] of model.rows.entries()) {
    const touched = new Set(row.cols.map((j) => blockOf[j]!));
    if (touched.size <= 1) {
      const [b] = touched;
      if (b !== undefined) all[b]!.rows.push(i);
      continue;
    }
    const resource =
      Number.isFinite(row.ub) &&
      row.lb <= 0 &&
      row.coefs.every((a) => a >= 0) &&
      row.cols.every((j) => model.columns[j]!.lb >= 0);
    if (!resource) return undefined;
    links.push(i);
    for (const b of touched) all[b]!.links.push(i);
  }
  return { blocks: all.filter((b) => b.cols.length > 0), links };
}

/** λ·a summed over each column's link terms. */
function linkPrices(model: MilpModel, links: number[], lambda: Map<number, number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of links) {
    const row = model.rows[r]!;
    const price = lambda.get(r)!;
    if (price === 0) continue;
    row.cols.forEach((j, t) => out.set(j, (out.get(j) ?? 0) + price * row.coefs[t]!));
  }
  return out;
}

/** The block alone: its columns and rows, its links cut down to its own terms with bound `limit`. */
function subModel(
  model: MilpModel,
  block: Block,
  cost: (j: number) => number,
  limit: (r: number) => number,
): MilpModel {
  const index = new Map(block.cols.map((j, k) => [j, k]));
  const columns = block.cols.map((j) => ({ ...model.columns[j]!, cost: cost(j) }));
  const localize = (row: MilpRow, ub: number): MilpRow => {
    const cols: number[] = [];
    const coefs: number[] = [];
    row.cols.forEach((j, t) => {
      const k = index.get(j);
      if (k !== undefined) {
        cols.push(k);
        coefs.push(row.coefs[t]!);
      }
    });
    return { name: row.name, lb: row.lb, ub, cols, coefs };
  };
  return {
    columns,
    rows: [
      ...block.rows.map((r) => localize(model.rows[r]!, model.rows[r]!.ub)),
      ...block.links.map((r) => localize(model.rows[r]!, limit(r))),
    ],
  };
}

/** The block with the least use of its links (each relative to the link's bound). */
async function addFootprint(
  model: MilpModel,
  block: Block,
  solver: MilpSolver,
  timeLimitMs: number,
): Promise<boolean> {
  if (block.links.length === 0) return false;
  const weight = new Map<number, number>();
  for (const r of block.links) {
    const row = model.rows[r]!;
    row.cols.forEach((j, t) => {
      if (block.colSet.has(j)) weight.set(j, (weight.get(j) ?? 0) + row.coefs[t]! / Math.max(1, row.ub));
    });
  }
  const cost = (j: number) => (weight.get(j) ?? 0) + 1e-6 * model.columns[j]!.cost;
  return addCandidate(model, block, solver, cost, (r) => model.rows[r]!.ub, timeLimitMs);
}

async function addCandidate(
  model: MilpModel,
  block: Block,
  solver: MilpSolver,
  cost: (j: number) => number,
  limit: (r: number) => number,
  timeLimitMs: number,
): Promise<boolean> {
  const r = await solver.solve(subModel(model, block, cost, limit), { timeLimitMs });
  if (r.values.length === 0) return false;
  block.candidates.push(candidate(model, block, r.values));
  return true;
}

function candidate(model: MilpModel, block: Block, values: number[]): Candidate {
  const full = new Map(block.cols.map((j, k) => [j, values[k]!]));
  const use = block.links.map((r) => {
    const row = model.rows[r]!;
    let sum = 0;
    row.cols.forEach((j, t) => (sum += row.coefs[t]! * (full.get(j) ?? 0)));
    return sum;
  });
  const cost = block.cols.reduce((s, j, k) => s + model.columns[j]!.cost * values[k]!, 0);
  return { values, cost, use };
}

async function relaxedValue(solver: MilpSolver, model: MilpModel): Promise<number | undefined> {
  const r = await solver.solve(model, { relax: true });
  return r.status === "optimal" ? r.objective : undefined;
}

function usage(model: MilpModel, r: number, values: readonly number[], cols?: ReadonlySet<number>): number {
  const row = model.rows[r]!;
  let sum = 0;
  row.cols.forEach((j, t) => {
    if (!cols || cols.has(j)) sum += row.coefs[t]! * values[j]!;
  });
  return sum;
}

/**
 * One candidate per block, the cheapest mix that respects the links: a multiple-choice
 * knapsack over a few hundred binaries, which GLPK settles quickly.
 */
async function master(
  model: MilpModel,
  blocks: Block[],
  links: number[],
  solver: MilpSolver,
  timeLimitMs: number,
): Promise<{ values: number[]; objective: number } | undefined> {
  if (blocks.some((b) => b.candidates.length === 0)) return undefined;
  const columns: MilpModel["columns"] = [];
  const rows: MilpRow[] = [];
  const linkRow = new Map(
    links.map((r) => [
      r,
      { name: model.rows[r]!.name, lb: -Infinity, ub: model.rows[r]!.ub, cols: [], coefs: [] } as MilpRow,
    ]),
  );
  const owner: [number, number][] = [];
  for (const [b, block] of blocks.entries()) {
    const pick: MilpRow = { name: `pick_b${b}`, lb: 1, ub: 1, cols: [], coefs: [] };
    for (const [p, cand] of block.candidates.entries()) {
      const col = columns.length;
      columns.push({ name: `z_b${b}_p${p}`, cost: cand.cost, lb: 0, ub: 1, integer: true });
      owner.push([b, p]);
      pick.cols.push(col);
      pick.coefs.push(1);
      block.links.forEach((r, i) => {
        if (cand.use[i]! === 0) return;
        const row = linkRow.get(r)!;
        row.cols.push(col);
        row.coefs.push(cand.use[i]!);
      });
    }
    rows.push(pick);
  }
  rows.push(...linkRow.values());
  const r = await solver.solve({ columns, rows }, { timeLimitMs });
  if (r.values.length === 0) return undefined;
  const values = new Array<number>(model.columns.length).fill(0);
  r.values.forEach((z, col) => {
    if (z < 0.5) return;
    const [b, p] = owner[col]!;
    const block = blocks[b]!;
    block.cols.forEach((j, k) => (values[j] = block.candidates[p]!.values[k]!));
  });
  return { values, objective: objectiveOf(model, values) };
}

/**
 * Pairs of blocks that share a link the plan uses to within a tenth of its bound, those sharing
 * more such links first.
 */
function tightPairs(model: MilpModel, blocks: Block[], values: readonly number[]): Block[][] {
  const tight = new Set<number>();
  for (const block of blocks) {
    for (const r of block.links) {
      const row = model.rows[r]!;
      if (usage(model, r, values) >= row.ub - Math.max(1e-6, 0.1 * Math.abs(row.ub))) tight.add(r);
    }
  }
  const pairs: { pair: Block[]; shared: number }[] = [];
  for (let a = 0; a < blocks.length; a++) {
    for (let b = a + 1; b < blocks.length; b++) {
      const shared = blocks[a]!.links.filter((r) => tight.has(r) && blocks[b]!.links.includes(r)).length;
      if (shared > 0) pairs.push({ pair: [blocks[a]!, blocks[b]!], shared });
    }
  }
  return pairs.sort((x, y) => y.shared - x.shared).map((p) => p.pair);
}

/**
 * One pass: re-solve each group of blocks at true costs against what the rest use, keeping
 * an answer that is cheaper.
 */
async function improve(
  model: MilpModel,
  groups: Block[][],
  current: number[],
  solver: MilpSolver,
  left: () => number,
): Promise<{ values: number[]; objective: number }> {
  const values = [...current];
  for (const [i, group] of groups.entries()) {
    const merged = mergeBlocks(group);
    if (merged.links.length === 0) continue;
    const limit = (r: number) =>
      model.rows[r]!.ub - (usage(model, r, values) - usage(model, r, values, merged.colSet));
    const sub = subModel(model, merged, (j) => model.columns[j]!.cost, limit);
    const result = await solver.solve(sub, { timeLimitMs: left() / (2 * (groups.length - i)) });
    if (result.values.length === 0) continue;
    const before = merged.cols.reduce((s, j) => s + model.columns[j]!.cost * values[j]!, 0);
    if (result.objective >= before - 1e-9) continue;
    merged.cols.forEach((j, k) => (values[j] = result.values[k]!));
    for (const block of group)
      block.candidates.push(
        candidate(
          model,
          block,
          block.cols.map((j) => values[j]!),
        ),
      );
  }
  return { values, objective: objectiveOf(model, values) };
}

function mergeBlocks(group: Block[]): Block {
  if (group.length === 1) return group[0]!;
  const cols = group.flatMap((b) => b.cols);
  return {
    cols,
    colSet: new Set(cols),
    rows: group.flatMap((b) => b.rows),
    links: [...new Set(group.flatMap((b) => b.links))],
    candidates: [],
  };
}

function objectiveOf(model: MilpModel, values: readonly number[]): number {
  return values.reduce((s, v, j) => s + v * model.columns[j]!.cost, 0);
}
