import type { Clock } from "../../lib/clock.ts";
import type { MilpModel, MilpResult, MilpRow, MilpSolver } from "./types.ts";

/**
 * Solves a MILP whose columns fall into blocks that interact only through resource rows
 * (Σ a·x ≤ b with a ≥ 0 and x ≥ 0), block by block.
 *
 * Why: GLPK's branch-and-bound has no cuts and searches the product of the blocks' choices, so
 * a model of twenty loosely linked blocks stalls where each block alone solves in milliseconds
 * (DESIGN.md, Known pitfalls). Here every MILP is one block, a pair of blocks, or a small
 * master that picks one candidate solution per block:
 * 1. each block within its share of the links in the LP optimum (rounded down, so any mix of
 *    them fits), and the master: enough when the LP bound is already tight (large fleets);
 * 2. the Lagrangian bound Σ z_b(λ) − λ·b with the LP duals as λ, which adds back each block's
 *    own integrality where the LP is weak (a few nodes per label group);
 * 3. a plan guided by those prices: every block takes the links at price λ, the most linked
 *    block last at true cost takes what they leave, then blocks and linked pairs of blocks are
 *    re-solved against what the others use;
 * 4. rounds of new prices (subgradient steps first, then Dantzig–Wolfe's from the master's LP
 *    over all candidates). Pricing every block at them raises the bound towards the
 *    Lagrangian dual (which on the benchmark's fleets of a hundred workspaces proves the
 *    optimum) and adds candidates; the master picks a plan and linked pairs improve it. The
 *    rounds stop when the gap is closed, the deadline passes, or STALL_ROUNDS of them improve
 *    neither bound nor plan.
 */
export interface BlockSolveOptions {
  clock: Clock;
  /** clock.now() value by which to return. */
  deadline: number;
  /** Stop when (objective − bound) / objective is at most this. */
  mipGap: number;
  /** The model's LP relaxation with duals, when the caller has solved it already. */
  lp?: MilpResult;
}

export interface BlockResult extends MilpResult {
  /** Value of the LP relaxation, for reporting. */
  lpBound: number;
}

/** Column generation rounds at most, for clocks that do not move (simulations). */
const MAX_ROUNDS = 40;

/** Price updates per round, before the master and the pairs. */
const PRICES_PER_ROUND = 5;

/** Subgradient steps that fail to raise the bound before Dantzig–Wolfe takes over. */
const SUBGRADIENT_FAILURES = 2;

/** Rounds without a better bound or plan after which the search gives up. */
const STALL_ROUNDS = 3;

/** Weight of the best prices so far in Dantzig–Wolfe's next prices (Wentges smoothing). */
const SMOOTHING = 0.5;

/** Candidates kept per block; the least promising at the current prices go first. */
const POOL_PER_BLOCK = 50;

interface Block {
  id: number;
  cols: number[];
  colSet: Set<number>;
  rows: number[];
  links: number[];
  /** Solutions found so far, as values of `cols`. */
  candidates: Candidate[];
  /** Candidates by their values, to add each only once. */
  seen: Map<string, Candidate>;
}

interface Candidate {
  values: number[];
  cost: number;
  /** Use of each of the block's links, parallel to Block.links. */
  use: number[];
}

interface Incumbent {
  values: number[];
  objective: number;
}

type Prices = Map<number, number>;

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

  const lp = options.lp ?? (await solver.solve(model, { relax: true, timeLimitMs: left() }));
  if (lp.status !== "optimal" || !lp.duals) return undefined;
  const lpBound = lp.objective;
  let bound = lpBound;
  let best: Incumbent | undefined;
  const done = () => best !== undefined && closeEnough(best.objective, bound, mipGap);
  const keep = (plan: Incumbent | undefined) => {
    if (!plan || (best && plan.objective >= best.objective - 1e-9)) return false;
    best = plan;
    // The master must always be able to pick the incumbent again.
    for (const block of blocks) addCandidate(model, block, ownValues(block, plan.values));
    return true;
  };
  const settle = async () => keep(await master(model, blocks, links, solver, left() / 4));
  const improveWith = async (groups: Block[][]) =>
    keep(await improve(model, groups, best!.values, solver, left));

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
    if (await solveBlock(model, block, solver, trueCost, share, budget)) continue;
    if (await solveBlock(model, block, solver, trueCost, (r) => share(r) + spare.get(r)!, budget)) continue;
    await footprint(model, block, solver, budget);
  }
  await settle();
  if (done()) return finish();
  if (!best) {
    // Each block's least use of the links gives a mix that fits whenever the problem has a
    // solution at all.
    for (const [i, block] of blocks.entries()) {
      await footprint(model, block, solver, left() / (blocks.length - i));
    }
    await settle();
    if (!best) return undefined;
  }
  await improveWith(blocks.map((b) => [b]));
  if (done() || clock.now() >= deadline) return finish();

  // 2. The Lagrangian bound at the LP's prices for the links.
  let center: Prices = new Map(links.map((r) => [r, Math.max(0, -(lp.duals![r] ?? 0))]));
  let priced = await price(center);
  let centerSlack = priced.slack;
  bound = Math.max(bound, priced.value);
  if (done() || clock.now() >= deadline) return finish();

  // 3. A plan guided by those prices, polished by blocks and pairs of linked blocks.
  keep(await guidedPlan(model, blocks, links, solver, center, left));
  await improveWith(blocks.map((b) => [b]));
  await improveWith(linkedPairs(model, blocks, best!.values));

  // 4. Rounds: new prices for the links, then the master and linked pairs. Subgradient
  // (Polyak) steps from the best prices come first, while they raise the bound; then
  // Dantzig–Wolfe's prices from the master's LP over all candidates, smoothed towards the best
  // prices so far. Those converge to the Lagrangian dual where subgradients zigzag, and every
  // pricing adds candidates the master can combine.
  let stalled = 0;
  let step = 1;
  let failedSteps = 0;
  for (let round = 0; round < MAX_ROUNDS && !done() && clock.now() < deadline; round++) {
    const before = { bound, objective: best!.objective };
    // Pricing costs little next to the master and the pairs: several prices per round.
    for (let k = 0; k < PRICES_PER_ROUND && !done() && clock.now() < deadline; k++) {
      const subgradient = failedSteps < SUBGRADIENT_FAILURES;
      const next = subgradient
        ? polyakStep(center, centerSlack, step, best!.objective - bound)
        : await smoothedMasterPrices(center, SMOOTHING);
      priced = await price(next);
      if (priced.value > bound + 1e-9) {
        bound = priced.value;
        center = next;
        centerSlack = priced.slack;
      } else if (subgradient) {
        failedSteps++;
        step /= 2;
      }
    }
    if (done() || clock.now() >= deadline) break;
    prune(blocks, center, best!.values);
    await settle();
    if (done() || clock.now() >= deadline) break;
    await improveWith(linkedPairs(model, blocks, best!.values));
    const progress = bound > before.bound + 1e-9 || best!.objective < before.objective - 1e-9;
    stalled = progress ? 0 : stalled + 1;
    if (stalled >= STALL_ROUNDS) break;
  }
  return finish();

  /** The master LP's prices, `weight` of the way back towards `from`. */
  async function smoothedMasterPrices(from: Prices, weight: number): Promise<Prices> {
    const duals = await restrictedMasterPrices(model, blocks, links, solver, left());
    if (!duals) return from;
    return new Map(links.map((r) => [r, weight * from.get(r)! + (1 - weight) * duals.get(r)!]));
  }

  /** Prices moved along the links' overuse at `from`, by Polyak's step towards `gap` less. */
  function polyakStep(from: Prices, slack: Map<number, number>, size: number, gap: number): Prices {
    const norm = links.reduce((s, r) => s + slack.get(r)! ** 2, 0);
    if (norm === 0) return from;
    const t = (size * Math.max(1e-6 * Math.abs(best!.objective), gap)) / norm;
    return new Map(links.map((r) => [r, Math.max(0, from.get(r)! + t * slack.get(r)!)]));
  }

  /**
   * Solves every block at its true costs plus λ·a on its links, adding each answer as a
   * candidate. Returns the Lagrangian bound Σ z_b(λ) − λ·b (−∞ when a block gives none) and
   * how far the answers together overuse each link (a subgradient of the bound at λ).
   */
  async function price(lambda: Prices): Promise<{ value: number; slack: Map<number, number> }> {
    const linkCost = linkPrices(model, links, lambda);
    let value = -links.reduce((s, r) => s + lambda.get(r)! * model.rows[r]!.ub, 0);
    const slack = new Map(links.map((r) => [r, -model.rows[r]!.ub]));
    for (const [i, block] of blocks.entries()) {
      const cost = (j: number) => trueCost(j) + (linkCost.get(j) ?? 0);
      const sub = subModel(model, block, cost, (r) => model.rows[r]!.ub);
      const r = await solver.solve(sub, { timeLimitMs: left() / (2 * (blocks.length - i)) });
      const z = r.status === "optimal" && r.bound !== undefined ? r.bound : await relaxedValue(solver, sub);
      value += z ?? -Infinity;
      if (r.values.length === 0) continue;
      const cand = addCandidate(model, block, r.values);
      block.links.forEach((link, k) => slack.set(link, slack.get(link)! + cand.use[k]!));
    }
    return { value, slack };
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
  const all: Block[] = Array.from({ length: count }, (_, id) => ({
    id,
    cols: [],
    colSet: new Set<number>(),
    rows: [],
    links: [],
    candidates: [],
    seen: new Map<string, Candidate>(),
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
function linkPrices(model: MilpModel, links: readonly number[], lambda: Prices): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of links) {
    const row = model.rows[r]!;
    const price = lambda.get(r) ?? 0;
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
async function footprint(model: MilpModel, block: Block, solver: MilpSolver, timeLimitMs: number) {
  if (block.links.length === 0) return undefined;
  const weight = new Map<number, number>();
  for (const r of block.links) {
    const row = model.rows[r]!;
    row.cols.forEach((j, t) => {
      if (block.colSet.has(j)) weight.set(j, (weight.get(j) ?? 0) + row.coefs[t]! / Math.max(1, row.ub));
    });
  }
  const cost = (j: number) => (weight.get(j) ?? 0) + 1e-6 * model.columns[j]!.cost;
  return solveBlock(model, block, solver, cost, (r) => model.rows[r]!.ub, timeLimitMs);
}

/** Solves the block alone at `cost` within `limit` on its links; its answer becomes a candidate. */
async function solveBlock(
  model: MilpModel,
  block: Block,
  solver: MilpSolver,
  cost: (j: number) => number,
  limit: (r: number) => number,
  timeLimitMs: number,
): Promise<number[] | undefined> {
  const r = await solver.solve(subModel(model, block, cost, limit), { timeLimitMs });
  if (r.values.length === 0) return undefined;
  addCandidate(model, block, r.values);
  return r.values;
}

function addCandidate(model: MilpModel, block: Block, values: number[]): Candidate {
  const id = values.join(",");
  const known = block.seen.get(id);
  if (known) return known;
  const full = new Map(block.cols.map((j, k) => [j, values[k]!]));
  const use = block.links.map((r) => {
    const row = model.rows[r]!;
    let sum = 0;
    row.cols.forEach((j, t) => (sum += row.coefs[t]! * (full.get(j) ?? 0)));
    return sum;
  });
  const cost = block.cols.reduce((s, j, k) => s + model.columns[j]!.cost * values[k]!, 0);
  const cand = { values, cost, use };
  block.candidates.push(cand);
  block.seen.set(id, cand);
  return cand;
}

/**
 * Keeps each block's POOL_PER_BLOCK candidates of least reduced cost at `lambda`, and always
 * the one the incumbent uses, so the master stays small and can still return the incumbent.
 */
function prune(blocks: Block[], lambda: Prices, incumbent: readonly number[]): void {
  for (const block of blocks) {
    if (block.candidates.length <= POOL_PER_BLOCK) continue;
    const reduced = (c: Candidate) =>
      c.cost + block.links.reduce((s, r, i) => s + lambda.get(r)! * c.use[i]!, 0);
    const ranked = [...block.candidates].sort((a, b) => reduced(a) - reduced(b));
    const kept = ranked.slice(0, POOL_PER_BLOCK);
    const current = ownValues(block, incumbent).join(",");
    const mine = ranked.find((c) => c.values.join(",") === current);
    if (mine && !kept.includes(mine)) kept[kept.length - 1] = mine;
    block.candidates = kept;
    block.seen = new Map(kept.map((c) => [c.values.join(","), c]));
  }
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
 * The master over the candidates: one per block (Σ z = 1) such that the links hold. As a MILP
 * it is a multiple-choice knapsack over a few hundred binaries, which GLPK settles quickly.
 */
function masterModel(model: MilpModel, blocks: Block[], links: readonly number[], integer: boolean) {
  const columns: MilpModel["columns"] = [];
  const rows: MilpRow[] = [];
  const linkRow = new Map(
    links.map((r) => [
      r,
      { name: model.rows[r]!.name, lb: -Infinity, ub: model.rows[r]!.ub, cols: [], coefs: [] } as MilpRow,
    ]),
  );
  const owner: [Block, Candidate][] = [];
  for (const block of blocks) {
    const pick: MilpRow = { name: `pick_b${block.id}`, lb: 1, ub: 1, cols: [], coefs: [] };
    for (const [p, cand] of block.candidates.entries()) {
      const col = columns.length;
      columns.push({ name: `z_b${block.id}_p${p}`, cost: cand.cost, lb: 0, ub: 1, integer });
      owner.push([block, cand]);
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
  // Links first: restrictedMasterPrices reads their duals by position.
  return { master: { columns, rows: [...linkRow.values(), ...rows] }, owner };
}

async function master(
  model: MilpModel,
  blocks: Block[],
  links: readonly number[],
  solver: MilpSolver,
  timeLimitMs: number,
): Promise<Incumbent | undefined> {
  if (blocks.some((b) => b.candidates.length === 0)) return undefined;
  const { master: m, owner } = masterModel(model, blocks, links, true);
  const r = await solver.solve(m, { timeLimitMs });
  if (r.values.length === 0) return undefined;
  const values = new Array<number>(model.columns.length).fill(0);
  r.values.forEach((z, col) => {
    if (z < 0.5) return;
    const [block, cand] = owner[col]!;
    block.cols.forEach((j, k) => (values[j] = cand.values[k]!));
  });
  return { values, objective: objectiveOf(model, values) };
}

/** Prices of the links in the master's LP over all candidates: Dantzig–Wolfe's next λ. */
async function restrictedMasterPrices(
  model: MilpModel,
  blocks: Block[],
  links: readonly number[],
  solver: MilpSolver,
  timeLimitMs: number,
): Promise<Prices | undefined> {
  const { master: m } = masterModel(model, blocks, links, false);
  const r = await solver.solve(m, { relax: true, timeLimitMs });
  if (r.status !== "optimal" || !r.duals) return undefined;
  return new Map(links.map((row, i) => [row, Math.max(0, -r.duals![i]!)]));
}

/**
 * A plan steered by prices λ on the links. From every block's footprint, each block in turn
 * takes what it wants of the links at price λ among what the others leave; the most linked
 * block (the one sharing links with most others, such as the unlabelled group that may use
 * every labelled existing node) comes last and at true cost, so it spends what is left. At
 * the LP's prices the blocks' wants nearly fit together, which rounding the LP's shares does
 * not see.
 */
async function guidedPlan(
  model: MilpModel,
  blocks: Block[],
  links: readonly number[],
  solver: MilpSolver,
  lambda: Prices,
  left: () => number,
): Promise<Incumbent | undefined> {
  const values = new Array<number>(model.columns.length).fill(0);
  const placed = new Set<Block>();
  for (const [i, block] of blocks.entries()) {
    if (block.links.length === 0) continue;
    const r = await footprint(model, block, solver, left() / (4 * (blocks.length - i)));
    if (!r) return undefined;
    block.cols.forEach((j, k) => (values[j] = r[k]!));
    placed.add(block);
  }
  const degree = localDegrees(model, blocks, links);
  const order = [...blocks].sort((a, b) => degree.get(a)! - degree.get(b)! || a.id - b.id);
  const priced = linkPrices(model, links, lambda);
  for (const [i, block] of order.entries()) {
    const last = i === order.length - 1;
    const cost = (j: number) => model.columns[j]!.cost + (last ? 0 : (priced.get(j) ?? 0));
    const limit = (r: number) =>
      model.rows[r]!.ub - (usage(model, r, values) - usage(model, r, values, block.colSet));
    const r = await solveBlock(model, block, solver, cost, limit, left() / (2 * (order.length - i)));
    if (!r) continue;
    block.cols.forEach((j, k) => (values[j] = r[k]!));
    placed.add(block);
  }
  // A block that found nothing keeps its footprint, which still fits; one without links has none.
  return placed.size === blocks.length ? { values, objective: objectiveOf(model, values) } : undefined;
}

/**
 * How strongly each block is tied to the others: its links, each weighted by one over the
 * number of other blocks it touches, so that a quota every block shares counts little and a
 * node shared with one other block counts fully.
 */
function localDegrees(model: MilpModel, blocks: Block[], links: readonly number[]): Map<Block, number> {
  const byCol = new Map<number, Block>();
  for (const b of blocks) for (const j of b.cols) byCol.set(j, b);
  const degree = new Map(blocks.map((b) => [b, 0]));
  for (const r of links) {
    const touched = new Set(model.rows[r]!.cols.map((j) => byCol.get(j)!));
    for (const b of touched) degree.set(b, degree.get(b)! + 1 / (touched.size - 1));
  }
  return degree;
}

/**
 * Pairs of blocks that share a link the plan uses to within a tenth of its bound, those sharing
 * more such links that no third block touches first, then more such links in all. Re-solving
 * a pair together trades a link between them, which no single block can.
 */
function linkedPairs(model: MilpModel, blocks: Block[], values: readonly number[]): Block[][] {
  const tight = new Map<number, number>();
  for (const block of blocks) {
    for (const r of block.links) {
      const row = model.rows[r]!;
      if (usage(model, r, values) >= row.ub - Math.max(1e-6, 0.1 * Math.abs(row.ub))) {
        tight.set(r, (tight.get(r) ?? 0) + 1);
      }
    }
  }
  const pairs: { pair: Block[]; own: number; shared: number }[] = [];
  for (let a = 0; a < blocks.length; a++) {
    for (let b = a + 1; b < blocks.length; b++) {
      const common = blocks[a]!.links.filter((r) => tight.has(r) && blocks[b]!.links.includes(r));
      if (common.length === 0) continue;
      const own = common.filter((r) => tight.get(r) === 2).length;
      pairs.push({ pair: [blocks[a]!, blocks[b]!], own, shared: common.length });
    }
  }
  pairs.sort((x, y) => y.own - x.own || y.shared - x.shared);
  // Pairs that share only links every block touches (quotas) are many and rarely pay off.
  const cap = Math.max(2 * blocks.length, pairs.filter((p) => p.own > 0).length);
  return pairs.slice(0, cap).map((p) => p.pair);
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
): Promise<Incumbent> {
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
    for (const block of group) addCandidate(model, block, ownValues(block, values));
  }
  return { values, objective: objectiveOf(model, values) };
}

function mergeBlocks(group: Block[]): Block {
  if (group.length === 1) return group[0]!;
  const cols = group.flatMap((b) => b.cols);
  return {
    id: -1,
    cols,
    colSet: new Set(cols),
    rows: group.flatMap((b) => b.rows),
    links: [...new Set(group.flatMap((b) => b.links))],
    candidates: [],
    seen: new Map(),
  };
}

/** The block's part of a whole-model solution. */
function ownValues(block: Block, values: readonly number[]): number[] {
  return block.cols.map((j) => values[j]!);
}

function objectiveOf(model: MilpModel, values: readonly number[]): number {
  return values.reduce((s, v, j) => s + v * model.columns[j]!.cost, 0);
}
