import type { Sku } from "../catalog/types.ts";
import type { Labels, Plan, SkuSpec } from "../packing/types.ts";

export type { Plan } from "../packing/types.ts";
export type { Sku } from "../catalog/types.ts";

/** A demand as callers write it: the optional fields of the problem file may be left out. */
export interface DemandInput {
  name: string;
  replicas: number;
  totalGpuMemoryGiB: number;
  minGpuMemoryGiB?: number;
  skus?: readonly string[];
  labels?: Labels;
  maxNodesPerReplica?: number;
}

/**
 * A planning problem as callers write it (DESIGN.md, "Planning problem"). An absent or empty
 * catalog means the planner's own catalogue; an absent quota, no quota.
 */
export interface ProblemInput {
  catalog?: readonly SkuSpec[];
  quota?: Readonly<Record<string, number>>;
  nodes?: readonly { name: string; sku: string; labels?: Labels; freeGpus: number }[];
  demands: readonly DemandInput[];
}

export interface CallOptions {
  /** Aborting cancels the call; the promise rejects with a Cancelled PlannerError. */
  signal?: AbortSignal;
  /**
   * plan() only: how long the solver may search (default 10 s); the best plan found by then
   * comes back. The gRPC client sends it as the call's deadline, plus time to answer.
   */
  timeLimitMs?: number;
}

/**
 * What the controller needs of the planner. Two implementations: GrpcPlannerClient (the
 * manager's :9090 service, or any other planner) and InProcessPlannerClient (same process).
 * Both reject with PlannerError.
 */
export interface PlannerClient {
  plan(problem: ProblemInput, options?: CallOptions): Promise<Plan>;
  catalog(options?: CallOptions): Promise<Sku[]>;
}
