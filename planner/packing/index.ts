export type {
  Demand,
  ExistingNode,
  Labels,
  NewNode,
  Placement,
  Plan,
  PlanStatus,
  Problem,
  SkuSpec,
  Unplaced,
} from "./types.ts";
export { parseProblem, validateProblem, type ParseOptions } from "./parse.ts";
export { solve, DEFAULT_TIME_LIMIT_MS, type SolveOptions } from "./solve.ts";
export { planDedicated, planFfd } from "./baselines.ts";
export { checkPlan } from "./verify.ts";
export { gpusPerReplica, labelKey, shapeOn, type Shape } from "./rules.ts";
