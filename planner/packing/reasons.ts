import { shapeOn, type Shape } from "./rules.ts";
import type { Demand, Problem, SkuSpec } from "./types.ts";

/**
 * Why no SKU can host a replica of `demand` however much capacity there is, or undefined when
 * some SKU can. These demands never reach the model.
 */
export function staticReason(demand: Demand, catalog: readonly SkuSpec[]): string | undefined {
  const listed = demand.skus ? catalog.filter((s) => demand.skus!.includes(s.name)) : catalog;
  const shapes = listed.map((sku) => ({ sku, shape: shapeOn(demand, sku) }));
  if (shapes.some((s) => s.shape.kind !== "ineligible")) return undefined;
  const which = demand.skus ? "listed SKU" : "SKU";
  if (listed.length === 0) return `no ${which} is in the catalogue`;

  const memoryOk = shapes.filter((s) => !(s.shape.kind === "ineligible" && s.shape.why.code === "gpuMemory"));
  if (memoryOk.length === 0) {
    const most = Math.max(...listed.map((s) => s.gpuMemoryGiB));
    return `no ${which} has enough per-GPU memory: the demand needs at least ${demand.minGpuMemoryGiB} GiB per GPU and the most any has is ${most} GiB`;
  }
  const tooMany = memoryOk
    .map(({ sku, shape }) => ({ sku, why: (shape as Extract<Shape, { kind: "ineligible" }>).why }))
    .filter((s) => s.why.code === "tooManyNodes")
    .sort((a, b) => nodesOf(a.why) - nodesOf(b.why) || a.sku.pricePerHour - b.sku.pricePerHour);
  if (tooMany.length > 0) {
    const { sku, why } = tooMany[0]!;
    return `each replica needs ${nodesOf(why)} nodes of ${sku.name} for its ${demand.totalGpuMemoryGiB} GiB but maxNodesPerReplica is ${demand.maxNodesPerReplica}`;
  }
  const { sku } = memoryOk[0]!;
  const shape = memoryOk[0]!.shape as Extract<Shape, { kind: "ineligible" }>;
  const gpus = shape.why.code === "notWholeNodes" ? shape.why.gpus : 0;
  return `each replica needs ${gpus} GPUs of ${sku.name}, which is not a whole number of its ${sku.gpus}-GPU nodes, and no other ${which} fits`;
}

function nodesOf(why: { code: string; nodes?: number }): number {
  return why.nodes ?? Infinity;
}

/** Why a replica that some SKU could host found no room: every eligible family hit its quota. */
export function quotaReason(demand: Demand, problem: Problem): string {
  const families = new Map<string, number>();
  for (const sku of problem.catalog) {
    if (shapeOn(demand, sku).kind === "ineligible") continue;
    const headroom = problem.quota[sku.family];
    if (headroom !== undefined) families.set(sku.family, headroom);
  }
  const list = [...families].map(([f, q]) => `${f} ${q} vCPUs`).join(", ");
  return `the vCPU quota of every eligible SKU family is used up (${list}) and no existing node with matching labels has enough free GPUs`;
}
