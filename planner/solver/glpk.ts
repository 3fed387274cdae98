import GLPKFactory, { type GLPK, type LP } from "glpk.js/node";
import type { MilpModel, MilpOptions, MilpResult, MilpSolver, MilpStatus } from "./types.ts";

// One WASM instance per thread: each factory call allocates a fresh heap, and repeated
// instances exhaust WASM memory (DESIGN.md, Known pitfalls).
let instance: Promise<GLPK> | undefined;

export function loadGlpk(): Promise<GLPK> {
  instance ??= GLPKFactory();
  return instance;
}

/**
 * GLPK in the calling thread. Its solve blocks the event loop, so a long-lived process runs
 * whole plans in worker threads (planner/pool), where this is the solver.
 */
export const glpkSolver: MilpSolver = {
  name: "glpk",
  async solve(model, options) {
    const glpk = await loadGlpk();
    try {
      return solveWithGlpk(glpk, model, options);
    } catch (e) {
      // A WASM abort leaves the instance unusable: the next solve starts a fresh one.
      instance = undefined;
      throw e;
    }
  },
};

export function solveWithGlpk(glpk: GLPK, model: MilpModel, options: MilpOptions = {}): MilpResult {
  // GLPK aborts the whole WASM instance on a model without columns.
  if (model.columns.length === 0) return emptySolution(model);
  const names = model.columns.map((_, j) => `x${j}`);
  const lp: LP = {
    name: "packing",
    objective: {
      direction: glpk.GLP_MIN,
      name: "cost",
      // Every column is listed here, so GLPK numbers them in model order.
      vars: model.columns.map((c, j) => ({ name: names[j]!, coef: c.cost })),
    },
    subjectTo: model.rows.map((r, i) => ({
      name: `r${i}`,
      vars: r.cols.map((j, t) => ({ name: names[j]!, coef: r.coefs[t]! })),
      bnds: bounds(glpk, r.lb, r.ub),
    })),
    bounds: model.columns.map((c, j) => ({ name: names[j]!, ...bounds(glpk, c.lb, c.ub) })),
    generals: options.relax ? [] : names.filter((_, j) => model.columns[j]!.integer),
  };
  const gap = options.mipGap ?? 0;
  const answer = glpk.solve(lp, {
    msglev: glpk.GLP_MSG_OFF,
    presol: true,
    mipgap: gap,
    // glpk.js passes the limit to C as an int of milliseconds: an infinite one would wrap.
    ...(options.timeLimitMs !== undefined && Number.isFinite(options.timeLimitMs)
      ? { tmlim: Math.max(0.001, options.timeLimitMs / 1000) }
      : {}),
  });
  const result = answer.result;

  let status = toStatus(glpk, result.status);
  // glp_intopt reports a stop at the gap tolerance (GLP_EMIPGAP) with the same "feasible"
  // status as a stop at the time limit, and glpk.js drops the return code; a search that
  // ended well before its time limit stopped at the gap.
  const limitS = options.timeLimitMs === undefined ? Infinity : options.timeLimitMs / 1000;
  if (status === "feasible" && gap > 0 && answer.time < 0.9 * limitS) status = "optimal";
  if (status !== "optimal" && status !== "feasible") {
    return { status, objective: Number.NaN, values: [] };
  }
  const integer = !options.relax && lp.generals!.length > 0;
  const values = names.map((n, j) => {
    const v = result.vars[n] ?? 0;
    return integer && model.columns[j]!.integer ? Math.round(v) : v;
  });
  const objective = values.reduce((sum, v, j) => sum + v * model.columns[j]!.cost, 0);
  const out: MilpResult = { status, objective, values };
  if (!integer && result.dual) {
    const dual = result.dual;
    out.duals = model.rows.map((_, i) => dual[`r${i}`] ?? 0);
  }
  if (status === "optimal") {
    // GLPK stops when |incumbent − best bound| < mipgap·(|incumbent| + ε), so the bound is at
    // least this; it does not expose the bound itself.
    out.bound = integer ? result.z - gap * (Math.abs(result.z) + Number.EPSILON) : result.z;
  }
  return out;
}

function bounds(glpk: GLPK, lb: number, ub: number): { type: number; lb: number; ub: number } {
  const hasLb = Number.isFinite(lb);
  const hasUb = Number.isFinite(ub);
  if (hasLb && hasUb) return { type: lb === ub ? glpk.GLP_FX : glpk.GLP_DB, lb, ub };
  if (hasLb) return { type: glpk.GLP_LO, lb, ub: 0 };
  if (hasUb) return { type: glpk.GLP_UP, lb: 0, ub };
  return { type: glpk.GLP_FR, lb: 0, ub: 0 };
}

function toStatus(glpk: GLPK, code: number): MilpStatus {
  switch (code) {
    case glpk.GLP_OPT:
      return "optimal";
    case glpk.GLP_FEAS:
      return "feasible";
    case glpk.GLP_NOFEAS:
    case glpk.GLP_INFEAS:
      return "infeasible";
    case glpk.GLP_UNBND:
      return "unbounded";
    default:
      return "noSolution";
  }
}

/** The only point of a model without columns: feasible iff every row admits 0. */
export function emptySolution(model: MilpModel): MilpResult {
  const ok = model.rows.every((r) => r.lb <= 0 && r.ub >= 0);
  return ok
    ? { status: "optimal", objective: 0, values: [], bound: 0, duals: model.rows.map(() => 0) }
    : { status: "infeasible", objective: Number.NaN, values: [] };
}
