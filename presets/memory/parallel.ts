import type { ModelShape } from "./weights.ts";

/** GPUs in the largest common GPU node (8 x A100/H100); one replica stays on one node by default. */
export const GPUS_PER_NODE = 8;

export interface ParallelLayout {
  /** Tensor-parallel degree: each layer's heads are split over this many GPUs. */
  readonly tensor: number;
  /** Pipeline-parallel degree: the layers are split into this many consecutive stages. */
  readonly pipeline: number;
}

/**
 * Whether vLLM can shard attention `degree` ways: the query heads must divide evenly, and the KV
 * heads must either divide evenly or be replicated a whole number of times.
 */
export function validTensorDegree(model: ModelShape, degree: number): boolean {
  return (
    model.attentionHeads % degree === 0 && (model.kvHeads % degree === 0 || degree % model.kvHeads === 0)
  );
}

/**
 * How vLLM splits one replica over `gpus` GPUs (a power of two): as much tensor parallelism as
 * the heads allow, pipeline stages for the rest. phi-3-medium (40 heads, 10 KV heads) on 8 GPUs
 * becomes 2-way tensor x 4-way pipeline.
 */
export function parallelLayout(model: ModelShape, gpus: number): ParallelLayout {
  let tensor = gpus;
  while (tensor > 1 && !validTensorDegree(model, tensor)) tensor /= 2;
  return { tensor, pipeline: gpus / tensor };
}

/**
 * How many ways the KV cache is divided by a vLLM layout: tensor parallelism splits the KV heads
 * (a head replicated on several GPUs is stored on each), pipeline stages split the layers. A
 * latent-attention cache has no heads to split: every tensor-parallel GPU keeps the whole latent.
 */
export function kvShards(model: ModelShape, layout: ParallelLayout): number {
  if (model.kvCacheDim !== undefined) return layout.pipeline;
  return Math.min(layout.tensor, model.kvHeads) * layout.pipeline;
}

/** Powers of two from 1 up to `max`. */
export function powersOfTwo(max: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= max; k *= 2) out.push(k);
  return out;
}
