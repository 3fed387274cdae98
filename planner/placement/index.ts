// kaito's placement policy: how workloads without a named size get their nodes. The Workspace
// controller, the capacity simulator and `kaito plan -f` all place through placeWorkloads.
export { placeWorkloads, MAX_NODES_PER_REPLICA } from "./policy.ts";
export type {
  BatchPlacement,
  PlacementContext,
  PlacementFailure,
  PlacementFailureCode,
  PlanFn,
  Workload,
  WorkloadOutcome,
  WorkloadPlacement,
} from "./types.ts";
