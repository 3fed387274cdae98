/**
 * GPU memory of one inference replica, as pure arithmetic on a model's figures.
 *
 * Terms, in GiB (2^30 bytes):
 *
 *   W  weights      parameters x bytes per weight: 2 for bf16/fp16, 1 for int8, 4.25/8 for int4;
 *                   quantized runtimes keep the embeddings and output head in 16-bit (weights.ts).
 *   K  KV cache     2 (key, value) x layers x kvHeads x headDim x 2 bytes, per token, for
 *                   contextLength x concurrency tokens: every concurrent sequence at full context,
 *                   the worst case the server must hold.
 *   A  activations  vLLM: 5% of the weights on each GPU (peak activations and CUDA graphs grow
 *                   with the model and shard like the weights).
 *                   transformers: the prefill temporaries of one layer, about sixteen hidden-width
 *                   16-bit tensors per prompt token (gated-MLP intermediates dominate), not sharded.
 *   B  runtime      fixed per GPU: vLLM 2.3 GiB (CUDA context and NCCL buffers about 0.6, baseline
 *                   activations and CUDA graphs about 1.7); transformers 1.0 GiB (CUDA context,
 *                   cuBLAS workspace).
 *   f  reserve      vLLM uses at most --gpu-memory-utilization (0.9, its default) of each GPU, so
 *                   f = 1/0.9; transformers has no cap but its caching allocator fragments, f = 1.1.
 *
 * On k GPUs each GPU needs  n(k) = ((W + A_vllm) / k + K / s(k) + B + A_transformers) x f,
 * where s(k) is how many ways the KV cache divides (parallel.ts: KV heads replicated under wide
 * tensor parallelism divide less than k ways).
 *
 *   totalGpuMemoryGiB  n(1): what the planner packs (k GPUs of m GiB when k x m >= total).
 *   perGpuFixedGiB     (B + A_transformers) x f: what every further GPU adds. The exact rule is
 *                      k x (m - fixed) >= total - fixed; gpusNeeded applies it (and s(k)).
 *   minGpuMemoryGiB    n(8) when the replica can be split over a node's 8 GPUs (vLLM: tensor then
 *                      pipeline parallel; transformers: layers spread by accelerate), n(1) when it
 *                      cannot (falcon-7b: 71 heads).
 *
 * Sources. B = 2.3 GiB and A = 5% of W are KAITO's vLLM budget (pkg/workspace/estimator/budget.go,
 * BaseOverheadGiB and OverheadWeightFactor). vLLM's own profile of Llama-3.1-8B-Instruct on a
 * 23.58 GiB RTX 3090 (vllm-project/vllm#10517: weights 14.99 GiB, peak torch memory 17.06 GiB,
 * non-torch 0.35 GiB) shows 2.42 GiB of runtime and activations where this model assumes 3.05: a
 * margin on the safe side. The KV formula is KAITO's BytesPerToken (pkg/model/interface.go). The
 * transformers terms are this project's estimates, with no published measurement to hold them to.
 */
import type { RuntimeName, ServingDtype } from "../types.ts";
import { GPUS_PER_NODE, kvShards, parallelLayout, powersOfTwo } from "./parallel.ts";
import { GiB, kvBytesPerToken, roundUpGiB, weightBytes, type ModelShape } from "./weights.ts";

export const VLLM_GPU_MEMORY_UTILIZATION = 0.9;
export const VLLM_RUNTIME_GIB = 2.3;
export const VLLM_ACTIVATION_SHARE = 0.05;
export const TRANSFORMERS_RUNTIME_GIB = 1.0;
export const TRANSFORMERS_FRAGMENTATION = 1.1;
const TRANSFORMERS_PREFILL_BYTES_PER_HIDDEN = 32;

export interface InferenceMemoryInput {
  readonly model: ModelShape;
  readonly runtime: RuntimeName;
  readonly dtype: ServingDtype;
  readonly contextLength: number;
  readonly concurrency: number;
  /** False when vLLM cannot split the model over GPUs at all. */
  readonly shardable: boolean;
}

export interface InferenceMemory {
  readonly weightsGiB: number;
  readonly kvCacheGiB: number;
  readonly activationsGiB: number;
  readonly runtimeGiB: number;
  /** Memory the runtime leaves unused (vLLM's utilization cap) or loses to fragmentation. */
  readonly reserveGiB: number;
  readonly totalGpuMemoryGiB: number;
  readonly minGpuMemoryGiB: number;
  readonly perGpuFixedGiB: number;
  /** Most GPUs one replica can use on one node (1 when it cannot be split). */
  readonly maxGpusPerReplica: number;
  readonly kvBytesPerToken: number;
}

interface Terms {
  weights: number;
  kv: number;
  /** Activations that shard with the weights (vLLM) or sit whole on each GPU (transformers). */
  activations: number;
  activationsShard: boolean;
  runtime: number;
  factor: number;
}

function terms(input: InferenceMemoryInput): Terms {
  const weights = weightBytes(input.model, input.dtype) / GiB;
  const kv = (kvBytesPerToken(input.model) * input.contextLength * input.concurrency) / GiB;
  if (input.runtime === "vllm") {
    return {
      weights,
      kv,
      activations: VLLM_ACTIVATION_SHARE * weights,
      activationsShard: true,
      runtime: VLLM_RUNTIME_GIB,
      factor: 1 / VLLM_GPU_MEMORY_UTILIZATION,
    };
  }
  const prefillTokens = input.contextLength * input.concurrency;
  return {
    weights,
    kv,
    activations: (prefillTokens * input.model.hiddenSize * TRANSFORMERS_PREFILL_BYTES_PER_HIDDEN) / GiB,
    activationsShard: false,
    runtime: TRANSFORMERS_RUNTIME_GIB,
    factor: TRANSFORMERS_FRAGMENTATION,
  };
}

/** Most GPUs one replica can be spread over on one node. */
export function maxGpusPerReplica(input: InferenceMemoryInput): number {
  return input.runtime === "transformers" || input.shardable ? GPUS_PER_NODE : 1;
}

function kvDivisor(input: InferenceMemoryInput, gpus: number): number {
  return input.runtime === "vllm" ? kvShards(input.model, parallelLayout(input.model, gpus)) : gpus;
}

/** n(k): GiB each of `gpus` GPUs needs when one replica is spread over them. */
export function perGpuNeedGiB(input: InferenceMemoryInput, gpus: number): number {
  const t = terms(input);
  const sharded =
    (t.weights + (t.activationsShard ? t.activations : 0)) / gpus + t.kv / kvDivisor(input, gpus);
  const whole = t.runtime + (t.activationsShard ? 0 : t.activations);
  return (sharded + whole) * t.factor;
}

export function inferenceMemory(input: InferenceMemoryInput): InferenceMemory {
  const t = terms(input);
  const total = perGpuNeedGiB(input, 1);
  const maxGpus = maxGpusPerReplica(input);
  const fixed = (t.runtime + (t.activationsShard ? 0 : t.activations)) * t.factor;
  return {
    weightsGiB: roundUpGiB(t.weights),
    kvCacheGiB: roundUpGiB(t.kv),
    activationsGiB: roundUpGiB(t.activations),
    runtimeGiB: roundUpGiB(t.runtime),
    reserveGiB: roundUpGiB(total - t.weights - t.kv - t.activations - t.runtime),
    totalGpuMemoryGiB: roundUpGiB(total),
    minGpuMemoryGiB: roundUpGiB(perGpuNeedGiB(input, maxGpus)),
    perGpuFixedGiB: roundUpGiB(fixed),
    maxGpusPerReplica: maxGpus,
    kvBytesPerToken: kvBytesPerToken(input.model),
  };
}

/**
 * The fewest GPUs (a power of two, at most `maxGpus`) of `gpuMemoryGiB` each that hold one
 * replica, or undefined when none do. `maxGpus` above one node's 8 means pipeline stages across
 * nodes; it is capped at 1 for a model that cannot be split.
 */
export function gpusNeeded(
  input: InferenceMemoryInput,
  gpuMemoryGiB: number,
  maxGpus = maxGpusPerReplica(input),
): number | undefined {
  const limit = input.runtime === "vllm" && !input.shardable ? 1 : maxGpus;
  return powersOfTwo(limit).find((k) => perGpuNeedGiB(input, k) <= gpuMemoryGiB + 1e-9);
}

/**
 * KV-cache room, in GiB summed over the replica's GPUs, once weights, activations and runtime
 * are placed on `gpus` GPUs of `gpuMemoryGiB`; negative when those alone do not fit. The
 * controller can turn it into --max-model-len; tests compare it with vLLM's reported KV size.
 */
export function kvBudgetGiB(input: InferenceMemoryInput, gpuMemoryGiB: number, gpus: number): number {
  const t = terms(input);
  const perGpu =
    gpuMemoryGiB / t.factor -
    (t.weights + (t.activationsShard ? t.activations : 0)) / gpus -
    t.runtime -
    (t.activationsShard ? 0 : t.activations);
  return perGpu * kvDivisor(input, gpus);
}
