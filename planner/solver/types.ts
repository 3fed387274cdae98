/**
 * A solver-neutral mixed-integer linear program: minimise Σ cost·x subject to row and column
 * bounds. Plain arrays and numbers only, so a model can be posted to a worker thread as is.
 */
export interface MilpModel {
  columns: MilpColumn[];
  rows: MilpRow[];
}

export interface MilpColumn {
  /** Unique within the model; solvers see it only in debugging output. */
  name: string;
  cost: number;
  lb: number;
  /** Infinity when unbounded. */
  ub: number;
  integer: boolean;
}

export interface MilpRow {
  name: string;
  /** -Infinity when unbounded below. */
  lb: number;
  /** Infinity when unbounded above. */
  ub: number;
  /** Column indices, parallel to `coefs`. */
  cols: number[];
  coefs: number[];
}

export interface MilpOptions {
  /** Wall-clock budget for this solve; the solver returns its incumbent when it runs out. */
  timeLimitMs?: number;
  /** Relative gap at which the search may stop (0: prove optimality). */
  mipGap?: number;
  /** Solve the LP relaxation: ignore integrality. */
  relax?: boolean;
}

/**
 * - optimal: proven optimal within `mipGap`.
 * - feasible: an incumbent, but the time limit stopped the proof.
 * - infeasible: no solution exists.
 * - noSolution: the time limit (or an error inside the solver) ended the search before any
 *   solution was found.
 * - unbounded: the objective has no lower bound (never for a well-formed packing model).
 */
export type MilpStatus = "optimal" | "feasible" | "infeasible" | "noSolution" | "unbounded";

export interface MilpResult {
  status: MilpStatus;
  /** Objective of `values`; NaN without a solution. */
  objective: number;
  /** One value per column; empty without a solution. */
  values: number[];
  /**
   * A proven lower bound on the optimum, when the solver reports one: the dual bound of its
   * search, or the objective itself for a proven optimum of an LP.
   */
  bound?: number;
  /**
   * Row duals of an LP solve (`relax`), one per row: the change of the optimum per unit of
   * the row's bound, so ≤ 0 for a binding upper bound of a minimisation.
   */
  duals?: number[];
}

/** One way to solve a MilpModel. Async so an implementation may run in a worker thread. */
export interface MilpSolver {
  readonly name: string;
  solve(model: MilpModel, options?: MilpOptions): Promise<MilpResult>;
}
