// The controller's view of the planner: one interface, a remote and an in-process implementation.
export type { CallOptions, DemandInput, Plan, PlannerClient, ProblemInput, Sku } from "./types.ts";
export { GrpcPlannerClient, type GrpcPlannerClientOptions } from "./grpc-client.ts";
export { InProcessPlannerClient, type InProcessPlannerOptions, type SolveFn } from "./in-process.ts";
export { PlannerError, isPlannerError, type PlannerErrorCode } from "./errors.ts";
