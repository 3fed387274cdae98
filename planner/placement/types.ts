import type { Demand, ExistingNode, Labels, NewNode, Plan, SkuSpec, UnplacedCode } from "../packing/types.ts";

/**
 * One workload to place on the planner's choice of nodes: a Workspace without a named size,
 * as the controller (and the simulator, and `kaito plan -f`) hand it over.
 */
export interface Workload {
  /** Unique within a batch; the controller uses namespace/name. */
  name: string;
  replicas: number;
  totalGpuMemoryGiB: number;
  minGpuMemoryGiB: number;
  labels: Labels;
  /** The sizes it may use: those on offer, less any that failed to launch for it. */
  skus: readonly string[];
}

/** What the workloads may use besides new nodes, and how many vCPUs new nodes may take. */
export interface PlacementContext {
  /** Every SKU a workload may name: the policy reads GPUs, vCPUs and prices here. */
  catalog: readonly SkuSpec[];
  /** vCPUs each family may still take; a family not listed is unlimited. */
  quota: Readonly<Record<string, number>>;
  /** Ready GPU nodes with free GPUs; a workload uses those that carry its labels. */
  nodes: readonly ExistingNode[];
  /**
   * Bring-your-own nodes: nothing new may be launched, the workloads fit on `nodes` or report
   * what does not.
   */
  existingOnly?: boolean;
  /** Price the vCPUs of families short of quota into the planner's choice (default true). */
  weighQuota?: boolean;
  /** Each family's whole quota, where known: how short a family is, is then exact. */
  quotaLimits?: Readonly<Record<string, number>>;
}

/**
 * Why a workload has no placement: a replica nothing can host (NoEligibleSku), the quota (or,
 * with existingOnly, the existing nodes) used up (QuotaExhausted, NoRoom), or no single size
 * that holds every replica (MixedSizes).
 */
export type PlacementFailureCode = UnplacedCode | "NoRoom" | "MixedSizes";

/**
 * The planner, as the caller reaches it (in process, over gRPC, or the simulator's policy).
 * `catalog`, when present, is the context's catalogue with scarce quota priced in (see
 * policy.ts): plan with it instead of the caller's own.
 */
export type PlanFn = (problem: {
  catalog?: SkuSpec[];
  quota: Readonly<Record<string, number>>;
  nodes: readonly ExistingNode[];
  demands: Demand[];
}) => Promise<Plan>;

/** How one workload runs. Nodes are named as in the plan it came from. */
export interface WorkloadPlacement {
  instanceType: string;
  replicas: number;
  /** nvidia.com/gpu each pod requests. */
  gpusPerPod: number;
  /** 1, or the nodes one replica spans. */
  nodesPerReplica: number;
  /** New nodes this workload launches (it is their host), in launch order. */
  newNodes: NewNode[];
  /** Existing nodes it uses. */
  existingNodes: string[];
  /** New nodes another workload of the batch launches and this one shares. */
  sharedNodes: { node: string; host: string }[];
  /** Price of the nodes it launches. */
  costPerHour: number;
  /** Each replica's nodes. */
  replicaNodes: string[][];
}

/** Why a workload has no placement, in one sentence, and how many of its replicas are left out. */
export interface PlacementFailure {
  code: PlacementFailureCode;
  reason: string;
  /** Replicas without a place, where the planner said (NoRoom). */
  unplaced?: number;
}

export type WorkloadOutcome =
  { workload: string; placement: WorkloadPlacement } | { workload: string; failure: PlacementFailure };

export interface BatchPlacement {
  /** One per workload, in the order given. */
  outcomes: WorkloadOutcome[];
  /** Every node the placements launch. */
  newNodes: NewNode[];
  /** Their price per hour. */
  costPerHour: number;
}
