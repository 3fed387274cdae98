import type { MilpColumn, MilpRow, MilpSolver } from "../solver/types.ts";
import type { Candidate } from "./pricing.ts";

/**
 * The master problem over block types: each of a type's `n` blocks takes one of the type's
 * candidate plans, and together they keep within the linked capacities (the quota families'
 * vCPUs). A type whose candidates take no linked capacity picks its cheapest and never enters
 * the model, so the master holds only the types the quotas concern.
 */
export interface MasterEntry {
  n: number;
  candidates: readonly Candidate[];
}

export interface MasterLp {
  objective: number;
  /** Copies of each entry on each of its candidates; fractional. */
  values: number[][];
  /** Price of each linked capacity (≥ 0): what one more unit would save. */
  prices: number[];
  /** Per entry: the price of one more block of the type at the linked prices. */
  convexity: number[];
}

interface Built {
  columns: MilpColumn[];
  rows: MilpRow[];
  /** Column of entry t's candidate p, or -1 for entries settled outside the model. */
  col: number[][];
  /** Row of entry t, or -1. */
  row: number[];
  /** Cost of the entries settled outside the model (each on its cheapest candidate). */
  settled: number;
}

function linked(c: Candidate): boolean {
  return c.use.some((u) => u > 0);
}

function cheapest(cands: readonly Candidate[]): number {
  let best = 0;
  cands.forEach((c, p) => {
    if (c.cost < cands[best]!.cost - 1e-12) best = p;
  });
  return best;
}

function build(entries: readonly MasterEntry[], capacity: readonly number[], integer: boolean): Built {
  const columns: MilpColumn[] = [];
  const caps: MilpRow[] = capacity.map((ub, f) => ({
    name: `cap${f}`,
    lb: -Infinity,
    ub,
    cols: [],
    coefs: [],
  }));
  const convex: MilpRow[] = [];
  const col: number[][] = [];
  const row: number[] = [];
  let settled = 0;
  entries.forEach((e, t) => {
    if (!e.candidates.some(linked)) {
      settled += e.n * e.candidates[cheapest(e.candidates)]!.cost;
      col.push(e.candidates.map(() => -1));
      row.push(-1);
      return;
    }
    const r: MilpRow = { name: `type${t}`, lb: e.n, ub: e.n, cols: [], coefs: [] };
    const kept = undominated(e.candidates);
    col.push(
      e.candidates.map((c, p) => {
        if (!kept[p]) return -1;
        const j = columns.length;
        columns.push({ name: `z${t}_${p}`, cost: c.cost, lb: 0, ub: e.n, integer });
        r.cols.push(j);
        r.coefs.push(1);
        c.use.forEach((u, f) => {
          if (u === 0) return;
          caps[f]!.cols.push(j);
          caps[f]!.coefs.push(u);
        });
        return j;
      }),
    );
    row.push(capacity.length + convex.length);
    convex.push(r);
  });
  return { columns, rows: [...caps, ...convex], col, row, settled };
}

/**
 * Candidates no other beats: one that costs no less and takes no less of every capacity than
 * another is never needed, in the LP or in whole copies.
 */
function undominated(cands: readonly Candidate[]): boolean[] {
  return cands.map(
    (c, p) =>
      !cands.some(
        (d, q) =>
          q !== p &&
          d.cost <= c.cost + 1e-9 &&
          d.use.every((u, f) => u <= c.use[f]!) &&
          (d.cost < c.cost - 1e-9 || d.use.some((u, f) => u < c.use[f]!) || q < p),
      ),
  );
}

/** The master's LP relaxation with its prices; undefined when it is infeasible or out of time. */
export async function solveMasterLp(
  entries: readonly MasterEntry[],
  capacity: readonly number[],
  solver: MilpSolver,
  timeLimitMs: number,
): Promise<MasterLp | undefined> {
  const b = build(entries, capacity, false);
  const r = await solver.solve({ columns: b.columns, rows: b.rows }, { relax: true, timeLimitMs });
  if (r.status !== "optimal" || !r.duals) return undefined;
  const duals = r.duals;
  return {
    objective: r.objective + b.settled,
    values: entries.map((e, t) =>
      e.candidates.map((_, p) => {
        const j = b.col[t]![p]!;
        if (j >= 0) return r.values[j]!;
        return p === cheapest(e.candidates) ? e.n : 0;
      }),
    ),
    prices: capacity.map((_, f) => Math.max(0, -(duals[f] ?? 0))),
    convexity: entries.map((e, t) =>
      b.row[t]! >= 0 ? duals[b.row[t]!]! : e.candidates[cheapest(e.candidates)]!.cost,
    ),
  };
}

/** Σ over entries of copies × candidate cost. */
export function masterCost(entries: readonly MasterEntry[], counts: readonly number[][]): number {
  let sum = 0;
  entries.forEach((e, t) => counts[t]!.forEach((k, p) => (sum += k * e.candidates[p]!.cost)));
  return sum;
}

/**
 * Whole copies from the LP's fractional ones: each entry keeps the whole part of its LP
 * counts; the copies left over go, one at a time, to the cheapest candidate that still fits the
 * capacities (a candidate that takes none always does, see lagrange.ts), and then single copies
 * move to cheaper candidates while the capacities allow. With a few linked capacities, the LP
 * has at most that many fractional entries, so rounding costs little on a large fleet.
 */
export function roundMaster(
  entries: readonly MasterEntry[],
  capacity: readonly number[],
  lp: MasterLp,
): number[][] {
  const counts = lp.values.map((vs) => vs.map((v) => Math.floor(v + 1e-7)));
  const slack = [...capacity];
  const take = (c: Candidate, k: number) => c.use.forEach((u, f) => (slack[f]! -= k * u));
  entries.forEach((e, t) => counts[t]!.forEach((k, p) => take(e.candidates[p]!, k)));
  const fits = (c: Candidate, back?: Candidate) =>
    c.use.every((u, f) => u - (back?.use[f] ?? 0) <= slack[f]! + 1e-9);

  entries.forEach((e, t) => {
    let rest = e.n - counts[t]!.reduce((s, k) => s + k, 0);
    while (rest > 0) {
      let pick = -1;
      e.candidates.forEach((c, p) => {
        if (fits(c) && (pick < 0 || c.cost < e.candidates[pick]!.cost)) pick = p;
      });
      if (pick < 0) pick = leastLinked(e.candidates, capacity);
      counts[t]![pick]!++;
      take(e.candidates[pick]!, 1);
      rest--;
    }
  });
  improve(entries, counts, slack);
  return counts;
}

/** Moves single copies to cheaper candidates while the capacities allow, best saving first. */
function improve(entries: readonly MasterEntry[], counts: number[][], slack: number[]): void {
  for (let pass = 0; pass < 4; pass++) {
    let moved = false;
    entries.forEach((e, t) => {
      for (let p = 0; p < e.candidates.length; p++) {
        while (counts[t]![p]! > 0) {
          const from = e.candidates[p]!;
          let best = -1;
          e.candidates.forEach((c, q) => {
            if (c.cost >= from.cost - 1e-9) return;
            if (!c.use.every((u, f) => u - from.use[f]! <= slack[f]! + 1e-9)) return;
            if (best < 0 || c.cost < e.candidates[best]!.cost) best = q;
          });
          if (best < 0) break;
          counts[t]![p]!--;
          counts[t]![best]!++;
          e.candidates[best]!.use.forEach((u, f) => (slack[f]! -= u - from.use[f]!));
          moved = true;
        }
      }
    });
    if (!moved) return;
  }
}

function leastLinked(cands: readonly Candidate[], capacity: readonly number[]): number {
  let best = 0;
  const weight = (c: Candidate) => c.use.reduce((s, u, f) => s + u / Math.max(1, capacity[f]!), 0);
  cands.forEach((c, p) => {
    const w = weight(c);
    const bw = weight(cands[best]!);
    if (w < bw - 1e-12 || (w <= bw + 1e-12 && c.cost < cands[best]!.cost)) best = p;
  });
  return best;
}

/** The master as an integer program (whole copies), within `timeLimitMs`; undefined if none found. */
export async function solveMasterMilp(
  entries: readonly MasterEntry[],
  capacity: readonly number[],
  solver: MilpSolver,
  timeLimitMs: number,
  mipGap: number,
): Promise<number[][] | undefined> {
  const b = build(entries, capacity, true);
  if (b.columns.length === 0) {
    return entries.map((e) => e.candidates.map((_, p) => (p === cheapest(e.candidates) ? e.n : 0)));
  }
  const r = await solver.solve({ columns: b.columns, rows: b.rows }, { timeLimitMs, mipGap });
  if (r.values.length === 0) return undefined;
  return entries.map((e, t) =>
    e.candidates.map((_, p) => {
      const j = b.col[t]![p]!;
      if (j >= 0) return Math.round(r.values[j]!);
      return p === cheapest(e.candidates) ? e.n : 0;
    }),
  );
}
