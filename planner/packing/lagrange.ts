import type { Clock } from "../../lib/clock.ts";
import type { MilpSolver } from "../solver/types.ts";
import { instantiate, splitIntoBlocks, type BlockType, type PlanParts } from "./blocks.ts";
import type { Aggregate } from "./classes.ts";
import { costOf, nodeNamer, range, type DecodedPlan } from "./decode.ts";
import { masterCost, roundMaster, solveMasterLp, solveMasterMilp, type MasterEntry } from "./master.ts";
import { TypePricer, type Candidate, type Prices } from "./pricing.ts";
import { soloCost } from "./rules.ts";
import type { Demand } from "./types.ts";

/**
 * The packing problem of a fleet, solved through its label groups.
 *
 * Groups that no node can serve together (blocks, see blocks.ts) are linked only by the vCPU
 * quotas, so relaxing the quotas with a price per family (Lagrangian relaxation) splits the
 * problem into one small problem per block, most of them a single workspace with its own
 * labels, solved in closed form (single-class.ts), and identical blocks solved once. At prices
 * λ ≥ 0, Σ_blocks z_b(λ) − λ·quota is a lower bound on the optimum, and the best λ is found by
 * column generation (Dantzig–Wolfe): a master LP over the blocks' candidate plans gives prices,
 * each block type's cheapest plan at those prices becomes a new candidate, until none is
 * cheaper than the master says. Blocks of several classes (teams sharing a label) need the
 * solver for that, so they are priced by a quick split plan while the prices settle, and by the
 * solver once per round, which is also when the bound is taken. A plan comes from the master
 * in whole copies (master.ts); with a few quota families only a few block types are fractional
 * in the LP, so on a large fleet it lands within a hair of the bound.
 *
 * Leaving replicas unplaced is priced too, at `unplaced`, more than any plan could cost, so the
 * plans place as many replicas as possible first and only then save money.
 */
export interface LabelGroupOptions {
  solver: MilpSolver;
  clock: Clock;
  /** clock.now() value by which to return. */
  deadline: number;
  /** Stop once (cost − bound) / cost is at most this. */
  mipGap: number;
}

export interface LabelGroupResult {
  plan: DecodedPlan;
  /** No plan placing as many replicas costs less (−∞ when nothing is proven). */
  bound: number;
  /** No plan places more replicas. */
  provenPlacement: boolean;
}

/** Rounds without a better bound or plan after which the search stops. */
const STALL_ROUNDS = 2;

/** Master LPs per round while only quick prices are tried. */
const QUICK_ITERATIONS = 25;

/**
 * The solver's least time for one block type's exact price, when the time left shared among
 * the types still to price is less. A team's packing usually takes a millisecond; the rare
 * hard one is cut off and bounded by its LP relaxation, which costs the fleet's bound a little
 * where waiting would cost the whole time limit.
 */
const BLOCK_TIME_LIMIT_MS = 50;

/**
 * A block of more classes than this, holding more than this share of all classes, means the
 * groups do not split (see solveByLabelGroups).
 */
const MAX_BLOCK_CLASSES = 30;
const MAX_BLOCK_SHARE = 0.25;

/** Fleets of at most this many blocks have every block re-planned alone (see repair). */
const REPAIR_ALL_BLOCKS = 20;

/**
 * The quick pricing stops once an iteration lowers the master LP by less than this share of
 * the gap the caller accepts: what is left to gain there is within the gap.
 */
const SETTLED_LP_SHARE = 0.1;

/** Share of what is left of the time that a round's quick pricing may take. */
const QUICK_SHARE = 0.25;

interface TypeState {
  pricer: TypePricer;
  n: number;
  candidates: Candidate[];
  seen: Set<string>;
  /**
   * Most vCPUs of each family the type's cheapest plan at any prices can take (each replica on
   * the family's largest footprint): how much its optimum can fall when a price falls.
   */
  most: number[];
  /** The last exact pricing: the prices, the lower bound there, and its plan's value and use. */
  priced?: { lambda: number[]; bound: number; value: number; use: number[] };
}

/**
 * Undefined when the label groups hardly split: existing nodes that many groups may use (an
 * unlabelled group may use every node) tie most of the fleet into one block, which is then the
 * whole problem again; the caller solves the model group by group instead (decompose.ts).
 */
export async function solveByLabelGroups(
  agg: Aggregate,
  options: LabelGroupOptions,
): Promise<LabelGroupResult | undefined> {
  const { solver, clock, deadline, mipGap } = options;
  const problem = agg.problem;
  const left = () => deadline - clock.now();
  const types = splitIntoBlocks(agg);
  const largest = Math.max(0, ...types.map((t) => t.problem.demands.length));
  if (largest > MAX_BLOCK_CLASSES && largest > MAX_BLOCK_SHARE * agg.classes.length) return undefined;

  // Families some class could use; the others' quotas cannot bind.
  const usable = new Set<string>();
  for (const c of agg.classes) {
    c.shapes.forEach((s, i) => {
      if (s.kind !== "ineligible") usable.add(problem.catalog[i]!.family);
    });
  }
  const families = Object.keys(problem.quota)
    .filter((f) => usable.has(f))
    .sort();
  const capacity = families.map((f) => problem.quota[f]!);
  // More than any plan could cost (each replica on its dearest option), so no saving ever
  // pays for an unplaced replica.
  const unplacedPrice =
    1 +
    agg.classes.reduce(
      (sum, c) =>
        sum +
        c.replicas *
          Math.max(
            0,
            ...c.shapes.map((s, i) => (s.kind === "ineligible" ? 0 : soloCost(s, problem.catalog[i]!))),
          ),
      0,
    );
  const pricesAt = (lambda: readonly number[]): Prices => ({
    quota: Object.fromEntries(families.map((f, i) => [f, lambda[i]!])),
    unplaced: unplacedPrice,
  });

  const states: TypeState[] = types.map((type) => ({
    pricer: new TypePricer(type, families, unplacedPrice),
    n: type.blocks.length,
    candidates: [],
    seen: new Set(),
    most: mostUse(type, families),
  }));
  const add = (s: TypeState, c: Candidate): boolean => {
    if (s.seen.has(c.signature)) return false;
    s.seen.add(c.signature);
    s.candidates.push(c);
    return true;
  };
  // Every type's cheapest plan ignoring quotas, and its least use of them: any price above the
  // unplaced price per vCPU makes leaving a replica out cheaper than using quota, so the
  // latter takes none and the master always has a whole solution.
  const zero = families.map(() => 0);
  const footprint = pricesAt(families.map(() => unplacedPrice + 1));
  for (const s of states) {
    add(s, s.pricer.quick(pricesAt(zero)).candidate);
    if (families.length > 0) add(s, s.pricer.split(footprint).candidate);
  }

  const entries = (): MasterEntry[] => states.map((s) => ({ n: s.n, candidates: s.candidates }));
  let bound = -Infinity;
  let best: { counts: number[][]; objective: number } | undefined;
  const consider = (counts: number[][] | undefined) => {
    if (!counts) return;
    const objective = masterCost(entries(), counts);
    if (!best || objective < best.objective - 1e-9) best = { counts, objective };
  };
  const closed = () =>
    best !== undefined &&
    best.objective - bound <= mipGap * Math.abs(best.objective) + 1e-7 * Math.max(1, best.objective);

  let lambda = zero;
  let prices = pricesAt(lambda);
  let lpObjective = Infinity;
  let stalled = 0;
  for (let round = 0; left() > 0 && !closed(); round++) {
    const before = { bound, objective: best?.objective ?? Infinity };
    // Quick pricing: prices from the master LP, each type priced by its split plan (exact for
    // one demand), until no type offers a cheaper candidate.
    if (families.length > 0) {
      const quickUntil = clock.now() + QUICK_SHARE * left();
      for (let i = 0; i < QUICK_ITERATIONS && clock.now() < quickUntil; i++) {
        const lp = await solveMasterLp(entries(), capacity, solver, Math.max(1, left()));
        if (!lp) break;
        // Prices that stay put, or an LP that hardly moves, while the quick plans still add
        // candidates: the prices have found their level, and the exact pricing below is what
        // tells whether they are right.
        const settled =
          i > 0 &&
          (samePrices(lp.prices, lambda) ||
            lpObjective - lp.objective <= SETTLED_LP_SHARE * mipGap * Math.abs(lp.objective));
        lambda = lp.prices;
        lpObjective = lp.objective;
        prices = pricesAt(lambda);
        let added = 0;
        states.forEach((s, t) => {
          const q = s.pricer.quick(prices);
          if (reducedCost(q.candidate, lambda) < lp.convexity[t]! - 1e-7 * Math.max(1, q.value)) {
            if (add(s, q.candidate)) added++;
          }
        });
        if (added === 0 || settled) break;
      }
    }
    if (left() <= 0) break;

    // Exact prices at λ: a lower bound, and the candidates the split plans miss. A type priced
    // before keeps its old bound, less what the prices that fell since could save it; the
    // types whose bounds are loosest that way are priced again while that matters.
    if (!samePrices(Object.values(prices.quota), lambda)) prices = pricesAt(lambda);
    const target = 0.25 * mipGap * Math.max(1, Math.min(lpObjective, best?.objective ?? Infinity));
    const order = states
      .map((s) => ({ s, slack: s.pricer.type.singleDemand ? Infinity : looseness(s, lambda) }))
      .filter((x) => x.slack > 0)
      .sort((a, b) => b.slack - a.slack);
    let loose = order.reduce((sum, x) => sum + (Number.isFinite(x.slack) ? x.slack : 0), 0);
    let pending = order.filter((x) => !Number.isFinite(x.slack)).length;
    for (const { s, slack } of order) {
      if (left() <= 0) break;
      if (Number.isFinite(slack) && pending === 0 && loose <= target) break;
      const multi = !s.pricer.type.singleDemand;
      const q = await s.pricer.exact(
        prices,
        solver,
        multi
          ? Math.max(1, Math.min(left() / 4, Math.max(BLOCK_TIME_LIMIT_MS, left() / (2 * pending))))
          : left(),
        mipGap / 4,
      );
      add(s, q.candidate);
      s.priced = { lambda: [...lambda], bound: q.bound, value: q.value, use: q.candidate.use };
      if (Number.isFinite(slack)) loose -= slack;
      else pending--;
    }
    if (states.every((s) => s.priced)) bound = Math.max(bound, lagrangeBound(states, lambda, capacity));

    // A whole plan from the master: rounding its LP, then its MILP while time is left.
    const lp = await solveMasterLp(entries(), capacity, solver, Math.max(1, left()));
    if (lp) {
      lambda = lp.prices;
      lpObjective = lp.objective;
      consider(roundMaster(entries(), capacity, lp));
    }
    if (!closed() && left() > 0) {
      consider(await solveMasterMilp(entries(), capacity, solver, Math.max(1, left() / 4), mipGap));
    }
    if (best && !closed() && left() > 0) consider(await repair(best.counts));
    const progress = bound > before.bound + 1e-9 || (best?.objective ?? Infinity) < before.objective - 1e-9;
    stalled = progress ? 0 : stalled + 1;
    if (stalled >= STALL_ROUNDS) break;
  }
  if (!best) {
    // Out of time before the master answered: each type on its least use of the quotas, which
    // is none (the footprint candidate), so the plan keeps every quota.
    const counts = states.map((s) => {
      const least = leastUse(s.candidates);
      return s.candidates.map((_, p) => (p === least ? s.n : 0));
    });
    best = { counts, objective: masterCost(entries(), counts) };
  }

  const plan = assemble(agg, types, states, best.counts);
  return result(plan);

  /**
   * Prices make a master of many blocks place what fits, but a block that is a large part of
   * the fleet (a small fleet, or a team) may find every candidate over what the others leave
   * it, and the master then leaves replicas out that would fit. Such a block, and every block
   * of a small fleet, is planned again alone within the quota the rest of the plan leaves it,
   * copy by copy; the master's choice improves when that costs less.
   */
  async function repair(counts: number[][]): Promise<number[][] | undefined> {
    if (families.length === 0) return undefined;
    const few = states.reduce((sum, s) => sum + s.n, 0) <= REPAIR_ALL_BLOCKS;
    const next = counts.map((c) => [...c]);
    const use = capacity.map((_, f) =>
      states.reduce(
        (sum, s, t) => sum + next[t]!.reduce((u, k, p) => u + k * s.candidates[p]!.use[f]!, 0),
        0,
      ),
    );
    let changed = false;
    for (const [t, s] of states.entries()) {
      if (left() <= 0) break;
      for (let p = 0; p < s.candidates.length; p++) {
        const from = s.candidates[p]!;
        if (next[t]![p] === 0 || (!few && from.unplaced === 0)) continue;
        const room = Object.fromEntries(
          families.map((f, i) => [f, Math.max(0, capacity[i]! - use[i]! + from.use[i]!)]),
        );
        const better = await s.pricer.within(room, pricesAt(zero), solver, Math.max(1, left() / 4));
        if (!better || better.cost >= from.cost - 1e-9) continue;
        add(s, better);
        const q = s.candidates.findIndex((c) => c.signature === better.signature);
        next[t]![p]!--;
        next[t]![q] = (next[t]![q] ?? 0) + 1;
        better.use.forEach((u, i) => (use[i]! += u - from.use[i]!));
        changed = true;
      }
    }
    return changed ? next.map((c, t) => states[t]!.candidates.map((_, p) => c[p] ?? 0)) : undefined;
  }

  function result(plan: DecodedPlan): LabelGroupResult {
    const unplaced = plan.unplaced.length - agg.hopeless.reduce((s, h) => s + h.demand.replicas, 0);
    // Plans with at most `unplaced` unplaced replicas cost at least bound − unplaced × price; one
    // with fewer would cost less than the price more than it, which the bound rules out.
    const costBound = bound - unplaced * unplacedPrice;
    return { plan, bound: costBound, provenPlacement: unplaced === 0 || costBound > -1 };
  }
}

/**
 * Σ n·z_t(λ) − λ·quota, with each type's z_t(λ) bounded below by its last exact pricing: the
 * optimum is nondecreasing in the prices, and falls by at most (fall of a price) × (its most
 * use of that family).
 */
function lagrangeBound(
  states: readonly TypeState[],
  lambda: readonly number[],
  capacity: readonly number[],
): number {
  let value = -lambda.reduce((s, l, f) => s + l * capacity[f]!, 0);
  for (const s of states) value += s.n * lowerAt(s, lambda);
  return value;
}

function lowerAt(s: TypeState, lambda: readonly number[]): number {
  const p = s.priced!;
  return p.bound - p.lambda.reduce((sum, l, f) => sum + Math.max(0, l - lambda[f]!) * s.most[f]!, 0);
}

/** n × (the last plan's value at λ − the type's lower bound at λ); ∞ when never priced exactly. */
function looseness(s: TypeState, lambda: readonly number[]): number {
  const p = s.priced;
  if (!p) return Infinity;
  const upper = p.value + p.use.reduce((sum, u, f) => sum + (lambda[f]! - p.lambda[f]!) * u, 0);
  return s.n * Math.max(0, upper - lowerAt(s, lambda));
}

/** Per family: the most vCPUs a plan that buys no idle node can take (see TypeState.most). */
function mostUse(type: BlockType, families: readonly string[]): number[] {
  const index = new Map(families.map((f, i) => [f, i]));
  const out = families.map(() => 0);
  const { catalog, demands } = type.problem;
  type.shapes.forEach((row, d) => {
    const most = families.map(() => 0);
    row.forEach((shape, s) => {
      const f = index.get(catalog[s]!.family);
      if (f === undefined || shape.kind === "ineligible") return;
      most[f] = Math.max(most[f]!, (shape.kind === "multi" ? shape.nodes : 1) * catalog[s]!.vcpus);
    });
    most.forEach((m, f) => (out[f]! += demands[d]!.replicas * m));
  });
  return out;
}

function samePrices(a: readonly number[], b: readonly number[]): boolean {
  return a.every((x, i) => Math.abs(x - b[i]!) <= 1e-9 * Math.max(1, Math.abs(x)));
}

function leastUse(cands: readonly Candidate[]): number {
  let best = 0;
  const total = (c: Candidate) => c.use.reduce((s, u) => s + u, 0);
  cands.forEach((c, p) => {
    const d = total(c) - total(cands[best]!);
    if (d < 0 || (d === 0 && c.cost < cands[best]!.cost)) best = p;
  });
  return best;
}

function reducedCost(c: Candidate, lambda: readonly number[]): number {
  return c.cost + c.use.reduce((s, u, f) => s + u * lambda[f]!, 0);
}

/** The chosen candidates, block by block, as one plan in the problem's own names. */
function assemble(agg: Aggregate, types: BlockType[], states: TypeState[], counts: number[][]): DecodedPlan {
  const problem = agg.problem;
  const skus = new Map(problem.catalog.map((s) => [s.name, s]));
  const name = nodeNamer(new Set(problem.nodes.map((n) => n.name)));
  const reasons = new Map<Demand, string>();
  const out: PlanParts = { newNodes: [], placements: [], unplaced: [] };
  for (const { demand, reason } of agg.hopeless) {
    for (const replica of range(demand.replicas)) {
      out.unplaced.push({ demand: demand.name, replica, code: "NoEligibleSku", reason });
    }
  }
  types.forEach((type, t) => {
    let b = 0;
    counts[t]!.forEach((k, p) => {
      for (let i = 0; i < k; i++) {
        instantiate(type.blocks[b++]!, states[t]!.candidates[p]!.plan(), problem, skus, name, reasons, out);
      }
    });
  });
  const order = new Map(problem.demands.map((d, i) => [d.name, i]));
  const byDemand = (a: { demand: string; replica: number }, b: { demand: string; replica: number }) =>
    order.get(a.demand)! - order.get(b.demand)! || a.replica - b.replica;
  out.placements.sort(byDemand);
  out.unplaced.sort(byDemand);
  return { ...out, costPerHour: costOf(out.newNodes, problem.catalog) };
}
