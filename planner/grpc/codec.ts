// Between planner.proto's messages (as @grpc/proto-loader hands them over with keepCase and
// defaults on) and the planner's JSON shapes. Explicit on purpose: proto's snake_case does not
// camel-case to the contract's "GiB" spelling.

import type { Sku } from "../catalog/types.ts";
import type { Plan, PlanStatus, SkuSpec } from "../packing/types.ts";
import type { ProblemInput } from "./types.ts";

type Labels = Record<string, string>;

export interface WireSkuSpec {
  name: string;
  gpus: number;
  gpu_memory_gib: number;
  vcpus: number;
  family: string;
  price_per_hour: number;
}

export interface WireDemand {
  name: string;
  replicas: number;
  total_gpu_memory_gib: number;
  min_gpu_memory_gib?: number;
  skus: string[];
  labels: Labels;
  max_nodes_per_replica?: number;
}

export interface WireProblem {
  catalog: WireSkuSpec[];
  quota: Record<string, number>;
  nodes: { name: string; sku: string; labels: Labels; free_gpus: number }[];
  demands: WireDemand[];
}

export interface WirePlan {
  cost_per_hour: number;
  new_nodes: { name: string; sku: string; labels: Labels }[];
  placements: { demand: string; replica: number; node: string; gpus: number }[];
  unplaced: { demand: string; replica: number; reason: string; code?: string }[];
  lower_bound: number;
  solve_ms: number;
  gap: number;
  status: string;
}

export interface WireSku {
  name: string;
  series: string;
  family: string;
  vcpus: number;
  memory_gib: number;
  gpus: number;
  gpu_fraction: number;
  gpu_model: string;
  compute_capability: number;
  gpu_memory_gib: number;
  nvlink: boolean;
  infiniband: boolean;
  price_per_hour: number;
  price_region: string;
  price_as_of: string;
  retired: string;
}

export function problemToWire(p: ProblemInput): WireProblem {
  return {
    catalog: (p.catalog ?? []).map((s) => ({
      name: s.name,
      gpus: s.gpus,
      gpu_memory_gib: s.gpuMemoryGiB,
      vcpus: s.vcpus,
      family: s.family,
      price_per_hour: s.pricePerHour,
    })),
    quota: { ...p.quota },
    nodes: (p.nodes ?? []).map((n) => ({
      name: n.name,
      sku: n.sku,
      labels: { ...n.labels },
      free_gpus: n.freeGpus,
    })),
    demands: p.demands.map((d) => ({
      name: d.name,
      replicas: d.replicas,
      total_gpu_memory_gib: d.totalGpuMemoryGiB,
      ...(d.minGpuMemoryGiB === undefined ? {} : { min_gpu_memory_gib: d.minGpuMemoryGiB }),
      skus: [...(d.skus ?? [])],
      labels: { ...d.labels },
      ...(d.maxNodesPerReplica === undefined ? {} : { max_nodes_per_replica: d.maxNodesPerReplica }),
    })),
  };
}

/** Unvalidated: the server still runs checkProblem on the result. */
export function problemFromWire(w: Partial<WireProblem> | undefined): ProblemInput {
  return {
    catalog: (w?.catalog ?? []).map((s): SkuSpec => ({
      name: s.name,
      gpus: s.gpus,
      gpuMemoryGiB: s.gpu_memory_gib,
      vcpus: s.vcpus,
      family: s.family,
      pricePerHour: s.price_per_hour,
    })),
    quota: { ...w?.quota },
    nodes: (w?.nodes ?? []).map((n) => ({
      name: n.name,
      sku: n.sku,
      labels: { ...n.labels },
      freeGpus: n.free_gpus,
    })),
    demands: (w?.demands ?? []).map((d) => ({
      name: d.name,
      replicas: d.replicas,
      totalGpuMemoryGiB: d.total_gpu_memory_gib,
      ...(d.min_gpu_memory_gib === undefined ? {} : { minGpuMemoryGiB: d.min_gpu_memory_gib }),
      ...(d.skus.length > 0 ? { skus: [...d.skus] } : {}),
      labels: { ...d.labels },
      ...(d.max_nodes_per_replica === undefined ? {} : { maxNodesPerReplica: d.max_nodes_per_replica }),
    })),
  };
}

export function planToWire(p: Plan): WirePlan {
  return {
    cost_per_hour: p.costPerHour,
    new_nodes: p.newNodes.map((n) => ({ name: n.name, sku: n.sku, labels: { ...n.labels } })),
    placements: p.placements.map((x) => ({ ...x })),
    unplaced: p.unplaced.map((u) => ({ ...u })),
    lower_bound: p.lowerBound,
    solve_ms: p.solveMs,
    gap: p.gap,
    status: p.status,
  };
}

const STATUSES: readonly string[] = ["optimal", "timeLimit", "heuristic", "baseline"] satisfies PlanStatus[];

export function planFromWire(w: WirePlan): Plan {
  if (!STATUSES.includes(w.status))
    throw new Error(`the planner answered with unknown plan status "${w.status}"`);
  return {
    costPerHour: w.cost_per_hour,
    newNodes: w.new_nodes.map((n) => ({ name: n.name, sku: n.sku, labels: { ...n.labels } })),
    placements: w.placements.map((x) => ({
      demand: x.demand,
      replica: x.replica,
      node: x.node,
      gpus: x.gpus,
    })),
    unplaced: w.unplaced.map((u) => ({
      demand: u.demand,
      replica: u.replica,
      // A planner from before codes sent none; its only other reason was the quota.
      code: u.code === "NoEligibleSku" ? ("NoEligibleSku" as const) : ("QuotaExhausted" as const),
      reason: u.reason,
    })),
    lowerBound: w.lower_bound,
    solveMs: w.solve_ms,
    gap: w.gap,
    status: w.status as PlanStatus,
  };
}

export function skuToWire(s: Sku): WireSku {
  return {
    name: s.name,
    series: s.series,
    family: s.family,
    vcpus: s.vcpus,
    memory_gib: s.memoryGiB,
    gpus: s.gpus,
    gpu_fraction: s.gpuFraction,
    gpu_model: s.gpuModel,
    compute_capability: s.computeCapability ?? 0,
    gpu_memory_gib: s.gpuMemoryGiB,
    nvlink: s.nvlink,
    infiniband: s.infiniband,
    price_per_hour: s.pricePerHour,
    price_region: s.priceRegion,
    price_as_of: s.priceAsOf,
    retired: s.retired ?? "",
  };
}

export function skuFromWire(w: WireSku): Sku {
  return {
    name: w.name,
    series: w.series,
    family: w.family,
    vcpus: w.vcpus,
    memoryGiB: w.memory_gib,
    gpus: w.gpus,
    gpuFraction: w.gpu_fraction,
    gpuModel: w.gpu_model,
    ...(w.compute_capability ? { computeCapability: w.compute_capability } : {}),
    gpuMemoryGiB: w.gpu_memory_gib,
    nvlink: w.nvlink,
    infiniband: w.infiniband,
    pricePerHour: w.price_per_hour,
    priceRegion: w.price_region,
    priceAsOf: w.price_as_of,
    ...(w.retired ? { retired: w.retired } : {}),
  };
}
