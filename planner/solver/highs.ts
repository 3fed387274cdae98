import highsImport, { type Highs, type ModelData } from "highs";
import { emptySolution } from "./glpk.ts";
import type { MilpModel, MilpOptions, MilpResult, MilpSolver, MilpStatus } from "./types.ts";

// The package is CommonJS with an ESM build; TypeScript types the default import as the CJS
// module object while Node's ESM loader yields the loader function itself.
const highsLoader = highsImport as unknown as typeof highsImport.default;

let instance: Promise<Highs> | undefined;

export function loadHighs(): Promise<Highs> {
  instance ??= highsLoader();
  return instance;
}

/** HiGHS (branch-and-cut, WASM) in the calling thread; used by the benchmark for comparison. */
export const highsSolver: MilpSolver = {
  name: "highs",
  async solve(model, options) {
    return solveWithHighs(await loadHighs(), model, options);
  },
};

export function solveWithHighs(highs: Highs, model: MilpModel, options: MilpOptions = {}): MilpResult {
  if (model.columns.length === 0) return emptySolution(model);
  const inf = highs.infinity;
  const clamp = (v: number) => (v === Infinity ? inf : v === -Infinity ? -inf : v);
  const starts = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const r of model.rows) {
    indices.push(...r.cols);
    values.push(...r.coefs);
    starts.push(indices.length);
  }
  const data: ModelData = {
    numCols: model.columns.length,
    numRows: model.rows.length,
    colCost: model.columns.map((c) => c.cost),
    colLower: model.columns.map((c) => clamp(c.lb)),
    colUpper: model.columns.map((c) => clamp(c.ub)),
    rowLower: model.rows.map((r) => clamp(r.lb)),
    rowUpper: model.rows.map((r) => clamp(r.ub)),
    matrix: {
      format: "csr",
      numRows: model.rows.length,
      numCols: model.columns.length,
      starts,
      indices,
      values,
    },
    ...(options.relax
      ? {}
      : { integrality: model.columns.map((c) => (c.integer ? highs.constants.variableType.integer : 0)) }),
  };
  const m = highs.createModel(data);
  try {
    m.options.set({
      output_flag: false,
      mip_rel_gap: options.mipGap ?? 0,
      ...(options.timeLimitMs !== undefined ? { time_limit: options.timeLimitMs / 1000 } : {}),
    });
    m.run();
    const codes = highs.constants.modelStatus;
    const code = m.getModelStatus();
    const hasPrimal = Number(m.info.get("primal_solution_status")) === 2;
    let status: MilpStatus;
    if (code === codes.optimal) status = "optimal";
    else if (code === codes.infeasible) status = "infeasible";
    else if (code === codes.unbounded) status = "unbounded";
    else status = hasPrimal ? "feasible" : "noSolution";
    if (status !== "optimal" && status !== "feasible") return { status, objective: Number.NaN, values: [] };

    const integer = !options.relax && model.columns.some((c) => c.integer);
    const col = Array.from(m.getSolution().colValue, (v, j) =>
      integer && model.columns[j]!.integer ? Math.round(v) : v,
    );
    const objective = col.reduce((sum, v, j) => sum + v * model.columns[j]!.cost, 0);
    const out: MilpResult = { status, objective, values: col };
    if (integer) {
      const bound = Number(m.info.get("mip_dual_bound"));
      if (Number.isFinite(bound)) out.bound = bound;
    } else if (status === "optimal") {
      out.bound = m.getObjectiveValue();
      out.duals = Array.from(m.getSolution().rowDual);
    }
    return out;
  } finally {
    m.dispose();
  }
}
