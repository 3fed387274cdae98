import { systemClock, type Clock } from "../../lib/clock.ts";
import { solveByBlocks } from "../solver/decompose.ts";
import { glpkSolver } from "../solver/glpk.ts";
import type { MilpResult, MilpSolver } from "../solver/types.ts";
import { planFfd } from "./baselines.ts";
import { aggregate, type Aggregate } from "./classes.ts";
import { decode, roundMoney, type DecodedPlan } from "./decode.ts";
import { solveByLabelGroups } from "./lagrange.ts";
import { buildModel, type PackingModel } from "./model.ts";
import { preferSmallerNodes } from "./smaller-nodes.ts";
import type { Plan, PlanStatus, Problem } from "./types.ts";

export interface SolveOptions {
  /** Default: GLPK in this thread. Pass a worker solver to keep an event loop free. */
  solver?: MilpSolver;
  /**
   * Budget for the whole solve (default 10 s); past it, the best plan found is returned. The
   * search may return sooner: when its plan is proven, or when rounds stop improving it.
   */
  timeLimitMs?: number;
  /** Relative gap at which the search may stop (default 0: prove optimality). */
  mipGap?: number;
  /** Measures solveMs and the time limit. */
  clock?: Clock;
  /**
   * auto (default): block by block first (see planner/solver/decompose.ts), then the whole
   * model while it is small. whole: only the whole model, for solvers with cuts (HiGHS).
   */
  strategy?: "auto" | "whole";
}

export const DEFAULT_TIME_LIMIT_MS = 10_000;

/** Up to this size the whole model goes straight to the solver, to be proven optimal. */
const TINY_MODEL_COLUMNS = 600;

/** Largest model still worth handing to the solver whole after the block-wise solve. */
const WHOLE_MODEL_COLUMNS = 3000;

/**
 * Share of the budget for the first try at placing everything. The block-wise search returns
 * early once it proves its plan or stops improving; the rest is for counting what can be
 * placed should that try find nothing.
 */
const FIRST_TRY_SHARE = 0.75;

/**
 * The least-cost plan that places as many replicas as possible (DESIGN.md, "Planning
 * problem"): first the most replicas that can be placed, then the cheapest way to place that
 * many. Pure apart from the solver calls; the problem must already be validated.
 */
export async function solve(problem: Problem, options: SolveOptions = {}): Promise<Plan> {
  const clock = options.clock ?? systemClock;
  const solver = options.solver ?? glpkSolver;
  const strategy = options.strategy ?? "auto";
  const start = clock.now();
  const deadline = start + (options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS);
  const agg = aggregate(problem);

  const mipGap = options.mipGap ?? 0;
  if (strategy === "auto" && modelColumns(agg) > TINY_MODEL_COLUMNS) {
    const plan = await solveLarge(problem, agg, { solver, clock, deadline, mipGap }, start);
    if (plan) return plan;
  }
  const done = (pm: PackingModel, r: PhaseResult, provenPlacement: boolean) => {
    const status: PlanStatus = r.status === "optimal" && provenPlacement ? "optimal" : "timeLimit";
    return finish(
      preferSmallerNodes(decode(agg, pm, r.values), problem),
      r.bound,
      status,
      clock.now() - start,
    );
  };
  const phase = (pm: PackingModel, until: number, gap: number, lp?: MilpResult) =>
    runPhase(pm, solver, { clock, deadline: until, mipGap: gap, strategy, lp });

  // Phase 1, only when a quota may leave replicas unplaced: how many can be placed at all.
  let maxUnplaced = 0;
  let provenPlacement = true;
  if (agg.classes.some((c) => c.limited)) {
    // Usually everything fits. The LP of the cheapest plan that places all tells (and the
    // block-wise search reuses it): when it is feasible, go straight for that plan, and count
    // what can be placed only if no such plan turns up.
    const all = buildModel(agg, { kind: "cost", maxUnplaced: 0 });
    const lp = await solver.solve(all.model, { relax: true, timeLimitMs: deadline - clock.now() });
    if (lp.status === "optimal") {
      const r = await phase(all, clock.now() + FIRST_TRY_SHARE * (deadline - clock.now()), mipGap, lp);
      if (r) return done(all, r, true);
    }
    const placement = buildModel(agg, { kind: "placement" });
    const r = await phase(placement, clock.now() + (deadline - clock.now()) / 2, 0);
    if (!r) return fallback(problem, agg, clock, start, undefined, 0);
    maxUnplaced = Math.round(r.objective);
    // Unplaced counts are integers, so a bound above maxUnplaced − 1 proves it.
    provenPlacement = Math.ceil(r.bound - 1e-6) >= maxUnplaced;
  }

  // Phase 2: the cheapest plan leaving at most that many unplaced.
  const pm = buildModel(agg, { kind: "cost", maxUnplaced });
  const r = await phase(pm, deadline, mipGap);
  if (!r) return fallback(problem, agg, clock, start, await relaxedBound(pm, solver), maxUnplaced);
  return done(pm, r, provenPlacement);
}

/**
 * A fleet: through its label groups (lagrange.ts). Most plans end there; one that is still
 * short of the gap, on a model small enough for the solver to take whole, gets the rest of the
 * time on the whole model, and the better plan wins.
 */
async function solveLarge(
  problem: Problem,
  agg: Aggregate,
  options: { solver: MilpSolver; clock: Clock; deadline: number; mipGap: number },
  start: number,
): Promise<Plan | undefined> {
  const { solver, clock, deadline, mipGap } = options;
  const r = await solveByLabelGroups(agg, options);
  if (!r) return undefined;
  let plan = r.plan;
  let bound = r.bound;
  const hopeless = agg.hopeless.reduce((s, h) => s + h.demand.replicas, 0);
  const maxUnplaced = plan.unplaced.length - hopeless;
  const gapOf = (cost: number, b: number) => (cost > 0 ? (cost - Math.max(0, b)) / cost : 0);
  const small = modelColumns(agg) <= WHOLE_MODEL_COLUMNS;
  if (small && gapOf(plan.costPerHour, bound) > mipGap + 1e-9 && clock.now() < deadline) {
    const pm = buildModel(agg, { kind: "cost", maxUnplaced });
    if (pm.model.columns.length <= WHOLE_MODEL_COLUMNS) {
      const whole = await solver.solve(pm.model, {
        timeLimitMs: Math.max(1, deadline - clock.now()),
        mipGap,
      });
      if (whole.bound !== undefined && r.provenPlacement) bound = Math.max(bound, whole.bound);
      if (hasSolution(whole) && whole.objective < plan.costPerHour - 1e-9)
        plan = decode(agg, pm, whole.values);
    }
  }
  const proven = r.provenPlacement && gapOf(plan.costPerHour, bound) <= mipGap + 1e-7;
  return finish(
    preferSmallerNodes(plan, problem),
    Number.isFinite(bound) ? bound : 0,
    proven ? "optimal" : "timeLimit",
    clock.now() - start,
  );
}

/** The whole model's assignment columns, roughly: one per class and SKU it may use. */
function modelColumns(agg: Aggregate): number {
  return agg.classes.reduce((sum, c) => sum + c.shapes.filter((s) => s.kind !== "ineligible").length, 0);
}

type PhaseResult = MilpResult & { bound: number };

interface PhaseOptions {
  clock: Clock;
  deadline: number;
  mipGap: number;
  strategy: "auto" | "whole";
  /** The model's LP relaxation, when already solved. */
  lp?: MilpResult;
}

/**
 * One phase's model: block by block when there are several label groups (see decompose.ts),
 * then, if that leaves a gap and time and the model is not large, the whole model at once,
 * keeping the better plan and the better bound. A tiny model goes to the solver whole at once.
 * Undefined when no plan was found.
 */
async function runPhase(
  pm: PackingModel,
  solver: MilpSolver,
  { clock, deadline, mipGap, strategy, lp }: PhaseOptions,
): Promise<PhaseResult | undefined> {
  const left = () => Math.max(1, deadline - clock.now());
  let best: MilpResult | undefined;
  let bound = -Infinity;
  const groups = new Set(pm.blockOf).size;
  const tiny = pm.model.columns.length <= TINY_MODEL_COLUMNS;
  if (groups > 1 && strategy === "auto" && !tiny) {
    const blocks = await solveByBlocks(pm.model, pm.blockOf, solver, { clock, deadline, mipGap, lp });
    if (blocks) {
      best = blocks;
      bound = Math.max(blocks.bound ?? -Infinity, blocks.lpBound);
      if (blocks.status === "optimal") return { ...blocks, bound };
    }
  }
  // The whole model only pays off while it is small: past a few thousand columns GLPK's
  // search neither proves more nor finds better plans than the blocks did.
  const small = pm.model.columns.length <= WHOLE_MODEL_COLUMNS || strategy === "whole";
  if (!best || (clock.now() < deadline && small)) {
    // A tiny model is proven outright: cheaper than reporting the gap tolerance as a gap.
    const whole = await solver.solve(pm.model, { timeLimitMs: left(), mipGap: tiny ? 0 : mipGap });
    if (whole.bound !== undefined) bound = Math.max(bound, whole.bound);
    if (hasSolution(whole) && (!best || whole.objective < best.objective - 1e-9)) best = whole;
  }
  if (!best || !hasSolution(best)) return undefined;
  if (!Number.isFinite(bound)) {
    const relaxed = lp?.status === "optimal" ? lp.objective : await relaxedBound(pm, solver);
    bound = relaxed ?? 0;
  }
  const proven =
    best.objective - bound <= mipGap * Math.abs(best.objective) + 1e-7 * Math.max(1, best.objective);
  return { ...best, status: proven ? "optimal" : "feasible", bound: Math.min(bound, best.objective) };
}

async function relaxedBound(pm: PackingModel, solver: MilpSolver): Promise<number | undefined> {
  const lp = await solver.solve(pm.model, { relax: true });
  return lp.status === "optimal" ? lp.objective : undefined;
}

function hasSolution(r: MilpResult): boolean {
  return r.status === "optimal" || r.status === "feasible";
}

/**
 * No solver answer in time: first-fit decreasing always yields a valid plan. `bound` holds for
 * plans placing as many replicas as the model required, so it is kept only if FFD does.
 */
function fallback(
  problem: Problem,
  agg: Aggregate,
  clock: Clock,
  start: number,
  bound: number | undefined,
  maxUnplaced: number,
): Plan {
  const ffd = planFfd(problem);
  const hopeless = agg.hopeless.reduce((sum, h) => sum + h.demand.replicas, 0);
  const keep = bound !== undefined && ffd.unplaced.length <= hopeless + maxUnplaced;
  return finish(ffd, keep ? bound : 0, "heuristic", clock.now() - start);
}

export function finish(plan: DecodedPlan, bound: number, status: PlanStatus, solveMs: number): Plan {
  const cost = plan.costPerHour;
  // Solver tolerances can put a proven bound a hair above an optimal cost.
  // An optimum is proven to the solvers' tolerance; a bound within it is the cost itself.
  const tight = status === "optimal" && cost - bound <= 1e-6 * Math.max(1, cost);
  const lowerBound = tight ? cost : roundMoney(Math.min(cost, Math.max(0, bound)));
  return {
    costPerHour: cost,
    newNodes: plan.newNodes,
    placements: plan.placements,
    unplaced: plan.unplaced,
    lowerBound,
    solveMs: Math.round(solveMs * 1000) / 1000,
    gap: cost > 0 ? (cost - lowerBound) / cost : 0,
    status,
  };
}
