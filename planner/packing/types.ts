/** The planning problem of `kaito plan --problem` (DESIGN.md, "Planning problem"), validated. */

export type Labels = Readonly<Record<string, string>>;

/** One VM size: the catalogue entry as the packing model sees it. */
export interface SkuSpec {
  name: string;
  gpus: number;
  /** Memory of one GPU. */
  gpuMemoryGiB: number;
  vcpus: number;
  /** The vCPU quota family. */
  family: string;
  pricePerHour: number;
}

/** A GPU node that already exists: its cost is paid, its free GPUs are there to use. */
export interface ExistingNode {
  name: string;
  sku: string;
  labels: Labels;
  freeGpus: number;
}

/** A workspace's need: `replicas` copies, each needing `totalGpuMemoryGiB` across its GPUs. */
export interface Demand {
  name: string;
  replicas: number;
  totalGpuMemoryGiB: number;
  /** Only SKUs whose per-GPU memory is at least this are eligible (default 0). */
  minGpuMemoryGiB: number;
  /** When given, only these SKUs are eligible. */
  skus?: readonly string[];
  labels: Labels;
  /** A replica may span up to this many whole new nodes (default 1). */
  maxNodesPerReplica: number;
}

export interface Problem {
  catalog: readonly SkuSpec[];
  /** vCPU headroom per family; a family not listed is unlimited. */
  quota: Readonly<Record<string, number>>;
  nodes: readonly ExistingNode[];
  demands: readonly Demand[];
}

export interface NewNode {
  name: string;
  sku: string;
  labels: Labels;
}

/** `gpus` GPUs of `node` serve replica `replica` of `demand`. */
export interface Placement {
  demand: string;
  replica: number;
  node: string;
  gpus: number;
}

/**
 * Why a replica has no place, as a code a program can act on:
 * - NoEligibleSku: no SKU can host it, however much capacity there is (it never will);
 * - QuotaExhausted: every family that could host it is out of vCPU quota, and no existing node
 *   with its labels has room (it may fit once quota or GPUs are freed).
 */
export type UnplacedCode = "NoEligibleSku" | "QuotaExhausted";

export interface Unplaced {
  demand: string;
  replica: number;
  code: UnplacedCode;
  /** One sentence: why this replica has no place. */
  reason: string;
}

/**
 * - optimal: cost proven least (within the requested gap) among plans placing as many replicas.
 * - timeLimit: the best plan found before the time limit; `gap` bounds how far from optimal.
 * - heuristic: no solver answer in time; a first-fit plan stands in.
 * - baseline: produced by a baseline policy, not an optimiser.
 */
export type PlanStatus = "optimal" | "timeLimit" | "heuristic" | "baseline";

/** The JSON of `kaito plan -o json`; the first six fields are the DESIGN.md contract. */
export interface Plan {
  costPerHour: number;
  newNodes: NewNode[];
  placements: Placement[];
  unplaced: Unplaced[];
  /** No plan that places as many replicas costs less than this. */
  lowerBound: number;
  solveMs: number;
  /** (costPerHour − lowerBound) / costPerHour; 0 when both are 0. */
  gap: number;
  status: PlanStatus;
}
