import type { Clock } from "../lib/clock.ts";
import { planDedicated, planFfd, solve, type Plan, type Problem } from "../planner/packing/index.ts";

export type PolicyName = "milp" | "ffd" | "dedicated";

export const POLICY_NAMES: readonly PolicyName[] = ["milp", "ffd", "dedicated"];

/**
 * A placement policy as the simulator replays it: the planner's own functions, called the way
 * the controller calls them (one demand per workspace, existing nodes' free GPUs at no cost).
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
  plan(problem: Problem, clock: Clock): Promise<Plan>;
}

export function policy(name: PolicyName): Policy {
  switch (name) {
    case "milp":
      // The simulated clock does not move during a solve, so the time limit counts only in
      // GLPK's own wall-clock limit; per-arrival problems are small and solve in milliseconds.
      return {
        name,
        sharesNodes: true,
        usesNamedInstanceTypes: false,
        plan: (problem, clock) => solve(problem, { clock }),
      };
    case "ffd":
      return {
        name,
        sharesNodes: true,
        usesNamedInstanceTypes: false,
        plan: async (problem) => planFfd(problem),
      };
    case "dedicated":
      return {
        name,
        sharesNodes: false,
        usesNamedInstanceTypes: true,
        plan: async (problem) => planDedicated(problem),
      };
  }
}
