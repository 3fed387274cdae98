import type { Demand, Labels, SkuSpec } from "./types.ts";

/** How one replica of a demand sits on one SKU, or why it cannot. */
export type Shape =
  | { kind: "single"; gpus: number }
  | { kind: "multi"; gpus: number; nodes: number }
  | { kind: "ineligible"; why: Ineligibility };

export type Ineligibility =
  | { code: "notListed" }
  | { code: "gpuMemory"; perGpuGiB: number; minGiB: number }
  | { code: "notWholeNodes"; gpus: number; nodeGpus: number }
  | { code: "tooManyNodes"; nodes: number; max: number };

// Memory sizes come from sums of decimals (weights + KV cache + overhead); a rounding error
// must not double a replica's GPUs.
const EPS = 1e-9;

/** The smallest power of two k with k·perGpuGiB ≥ totalGiB. */
export function gpusPerReplica(totalGiB: number, perGpuGiB: number): number {
  let k = 1;
  while (k * perGpuGiB < totalGiB - EPS) k *= 2;
  return k;
}

export function shapeOn(demand: Demand, sku: SkuSpec): Shape {
  if (demand.skus && !demand.skus.includes(sku.name))
    return { kind: "ineligible", why: { code: "notListed" } };
  if (sku.gpuMemoryGiB < demand.minGpuMemoryGiB - EPS) {
    return {
      kind: "ineligible",
      why: { code: "gpuMemory", perGpuGiB: sku.gpuMemoryGiB, minGiB: demand.minGpuMemoryGiB },
    };
  }
  const k = gpusPerReplica(demand.totalGpuMemoryGiB, sku.gpuMemoryGiB);
  if (k <= sku.gpus) return { kind: "single", gpus: k };
  if (k % sku.gpus !== 0) {
    return { kind: "ineligible", why: { code: "notWholeNodes", gpus: k, nodeGpus: sku.gpus } };
  }
  const nodes = k / sku.gpus;
  if (nodes > demand.maxNodesPerReplica) {
    return { kind: "ineligible", why: { code: "tooManyNodes", nodes, max: demand.maxNodesPerReplica } };
  }
  return { kind: "multi", gpus: k, nodes };
}

/** A node with `nodeLabels` may serve a demand asking for `wanted` when it carries them all. */
export function labelsInclude(nodeLabels: Labels, wanted: Labels): boolean {
  return Object.entries(wanted).every(([k, v]) => nodeLabels[k] === v);
}

/** Equal label sets give equal keys, whatever the order of their entries. */
export function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Price of hosting one replica on fresh nodes of `sku` by itself: what a dedicated node costs. */
export function soloCost(shape: Shape, sku: SkuSpec): number {
  return shape.kind === "multi" ? shape.nodes * sku.pricePerHour : sku.pricePerHour;
}

/** Whether `x` is a power of two (1, 2, 4, ...). */
export function isPowerOfTwo(x: number): boolean {
  return Number.isInteger(x) && x > 0 && (x & (x - 1)) === 0;
}

/** Largest multiple of t (a power of two) not above g: the capacity a g-GPU bin offers items ≥ t. */
export function capacityFor(g: number, t: number): number {
  return Math.floor(g / t) * t;
}
