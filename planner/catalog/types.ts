import type { SkuSpec } from "../packing/types.ts";

/** One Azure GPU VM size as the catalogue knows it. */
export interface Sku {
  /** ARM size name, e.g. Standard_NC24ads_A100_v4. ARM compares these case-insensitively. */
  readonly name: string;
  /** Azure's series name, e.g. NC_A100_v4. */
  readonly series: string;
  /** ARM Usages / ResourceSkus family: the key of the vCPU quota. */
  readonly family: string;
  readonly vcpus: number;
  readonly memoryGiB: number;
  /**
   * GPUs the node advertises as nvidia.com/gpu. A fractional vGPU size counts as 1, with
   * `gpuFraction` < 1 and `gpuMemoryGiB` the slice's memory.
   */
  readonly gpus: number;
  /** Share of one physical GPU per advertised GPU: 1, or 1/6, 1/3, 1/2 on NVadsA10_v5. */
  readonly gpuFraction: number;
  readonly gpuModel: string;
  /**
   * CUDA compute capability of the GPU model (7.0 for V100, 8.0 for A100). The pod templates
   * choose float16 below 8.0, where vLLM refuses bfloat16. Absent when unknown (a size only a
   * live refresh or a planning problem named): the preset's own dtype is used then.
   */
  readonly computeCapability?: number;
  /** Memory of one advertised GPU (of the slice, for a fractional size). */
  readonly gpuMemoryGiB: number;
  readonly nvlink: boolean;
  readonly infiniband: boolean;
  /** Pay-as-you-go Linux list price, USD per hour, in `priceRegion` on `priceAsOf`. */
  readonly pricePerHour: number;
  readonly priceRegion: string;
  /** ISO date (YYYY-MM-DD). */
  readonly priceAsOf: string;
  /** ISO date Azure retired the size, when it has. */
  readonly retired?: string;
}

export interface Catalog {
  readonly skus: readonly Sku[];
}

/**
 * The planning problem's catalogue entry (DESIGN.md, "Planning problem"): what the packing
 * model needs to know of a SKU.
 */
export type CatalogEntry = SkuSpec;
