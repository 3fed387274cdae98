import type { Clock } from "../lib/clock.ts";
import { planDedicated, planFfd, solve, type Plan, type Problem } from "../planner/packing/index.ts";

export type PolicyName = "milp" | "ffd" | "dedicated" | "milp-one-at-a-time" | "milp-quota-blind";

/** The policies a simulation runs unless told otherwise. */
export const POLICY_NAMES: readonly PolicyName[] = ["milp", "ffd", "dedicated"];

/** Every policy, for `kaito simulate --policies`. */
export const ALL_POLICY_NAMES: readonly PolicyName[] = [
  ...POLICY_NAMES,
  "milp-one-at-a-time",
  "milp-quota-blind",
];

/**
 * A placement policy as the simulator replays it: a planner, called through kaito's placement
 * policy (planner/placement) the way the controller calls it, existing nodes' free GPUs at no
 * cost.
 */
export interface Policy {
  name: PolicyName;
  /**
   * Whether replicas may land on nodes other workspaces use. KAITO's dedicated policy gives each
   * workspace nodes of its own, so it is offered only nodes nobody occupies (idle ones).
   */
  sharesNodes: boolean;
  /**
   * Whether workspaces run on the instance type the scenario names for their model. KAITO
   * requires one; kaito-ts lets the planner choose when it is left out, which is how the
   * planner policies are replayed.
   */
  usesNamedInstanceTypes: boolean;
  /**
   * Plans workspaces of the same labels that arrive within a window together, as the
   * controller does (1 s idle, 10 s at most); absent, one at a time as they come.
   */
  batching?: { idleMs: number; maxMs: number };
  /** Prices scarce quota into the planner's choice, as the controller does (planner/placement). */
  weighsQuota: boolean;
  plan(problem: Problem, clock: Clock): Promise<Plan>;
}

/** The controller's batching window. */
const CONTROLLER_BATCHING = { idleMs: 1_000, maxMs: 10_000 };

export function policy(name: PolicyName): Policy {
  // The simulated clock does not move during a solve, so the time limit counts only in GLPK's
  // own wall-clock limit; per-arrival problems are small and solve in milliseconds.
  const milp = (problem: Problem, clock: Clock) => solve(problem, { clock });
  switch (name) {
    case "milp":
      // kaito-ts as the controller runs it: batched arrivals, scarce quota priced in.
      return {
        name,
        sharesNodes: true,
        usesNamedInstanceTypes: false,
        batching: CONTROLLER_BATCHING,
        weighsQuota: true,
        plan: milp,
      };
    case "milp-one-at-a-time":
      // ... without the batching window: every arrival planned alone, as before batching.
      return { name, sharesNodes: true, usesNamedInstanceTypes: false, weighsQuota: true, plan: milp };
    case "milp-quota-blind":
      // ... without pricing scarce quota: the cheapest plan now, whatever quota it spends.
      return {
        name,
        sharesNodes: true,
        usesNamedInstanceTypes: false,
        batching: CONTROLLER_BATCHING,
        weighsQuota: false,
        plan: milp,
      };
    case "ffd":
      return {
        name,
        sharesNodes: true,
        usesNamedInstanceTypes: false,
        weighsQuota: false,
        plan: async (problem) => planFfd(problem),
      };
    case "dedicated":
      return {
        name,
        sharesNodes: false,
        usesNamedInstanceTypes: true,
        weighsQuota: false,
        plan: async (problem) => planDedicated(problem),
      };
  }
}
