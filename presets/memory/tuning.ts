/**
 * GPU memory of one LoRA or QLoRA fine-tuning process, as pure arithmetic on a model's figures.
 *
 * Terms, in GiB (2^30 bytes), for sequences of s tokens in batches of b:
 *
 *   W  base weights  frozen. lora: 2 bytes per parameter (bf16). qlora: NF4 with double
 *                    quantization, 4.127 bits per parameter (QLoRA paper, section 3), embeddings
 *                    and output head left in bf16, plus the largest projection dequantized to bf16
 *                    while it computes (about a quarter of one layer).
 *   P  adapters      rank-r LoRA on the q, k, v and o projections of every layer:
 *                    r x (4 x hidden + 2 x heads x headDim + 2 x kvHeads x headDim) per layer,
 *                    16 bytes each (fp32 weight, fp32 gradient, two fp32 Adam moments).
 *   A  activations   saved for the backward pass: 34 bytes x s x b x hidden per layer, the
 *                    16-bit transformer layer of Korthikanti et al. 2022 ("Reducing Activation
 *                    Recomputation in Large Transformer Models", eq. 1) without the attention-score
 *                    term that fused attention no longer stores. With gradient checkpointing only
 *                    each layer's 16-bit input is kept, plus one layer's worth being recomputed.
 *                    The loss adds s x b x vocab x 8 bytes (fp32 logits and their gradient).
 *   B  runtime       1.0 GiB per GPU: CUDA context, cuBLAS workspace, NCCL.
 *   f  reserve       1.1: caching-allocator fragmentation.
 *
 *   on k GPUs each needs  n(k) = ((W + P + A_layers) / k + A_loss + B) x f
 *
 * totalGpuMemoryGiB is n(1). When it fits one GPU, each GPU runs its own data-parallel copy
 * (`accelerate launch --num_processes <GPUs>`); when it does not, one process spreads the layers
 * over the GPUs (`device_map: auto` in KAITO's lora/qlora templates), the way KAITO tunes
 * falcon-40b on two GPUs. minGpuMemoryGiB is n(8), a node's worth of GPUs sharing the layers.
 */
import type { TuningMethod } from "../types.ts";
import { GPUS_PER_NODE } from "./parallel.ts";
import { embeddingParameters, GiB, roundUpGiB, type ModelShape } from "./weights.ts";

export const NF4_DOUBLE_QUANT_BITS = 4.127;
export const ACTIVATION_BYTES_PER_HIDDEN = 34;
export const TUNING_RUNTIME_GIB = 1.0;
export const TUNING_FRAGMENTATION = 1.1;
const ADAPTER_BYTES_PER_PARAMETER = 16;
const LOSS_BYTES_PER_LOGIT = 8;

export interface TuningMemoryInput {
  readonly model: ModelShape;
  readonly method: TuningMethod;
  readonly sequenceLength: number;
  readonly batchSize: number;
  readonly loraRank: number;
  readonly gradientCheckpointing: boolean;
}

export interface TuningMemory {
  readonly weightsGiB: number;
  /** Adapter weights, gradients and optimizer state. */
  readonly adaptersGiB: number;
  readonly activationsGiB: number;
  readonly runtimeGiB: number;
  readonly reserveGiB: number;
  readonly totalGpuMemoryGiB: number;
  readonly minGpuMemoryGiB: number;
  readonly trainableParameters: number;
}

/** Parameters a rank-`rank` LoRA adds on the attention projections. */
export function loraParameters(model: ModelShape, rank: number): number {
  const h = model.hiddenSize;
  const perLayer =
    rank * (4 * h + 2 * model.attentionHeads * model.headDim + 2 * model.kvHeads * model.headDim);
  return model.layers * perLayer;
}

function baseWeightBytes(model: ModelShape, method: TuningMethod): number {
  if (method === "lora") return model.parameters * 2;
  const embedding = Math.min(embeddingParameters(model), model.parameters);
  const body = model.parameters - embedding;
  const largestProjection = (body / model.layers / 4) * 2;
  return (body * NF4_DOUBLE_QUANT_BITS) / 8 + embedding * 2 + largestProjection;
}

/** Activation bytes saved across the layers, and those of the loss, which sit on one GPU. */
function activationBytes(input: TuningMemoryInput): { layers: number; loss: number } {
  const tokens = input.sequenceLength * input.batchSize;
  const h = input.model.hiddenSize;
  const layer = ACTIVATION_BYTES_PER_HIDDEN * tokens * h;
  const layers = input.gradientCheckpointing
    ? input.model.layers * tokens * h * 2 + layer
    : input.model.layers * layer;
  return { layers, loss: tokens * input.model.vocabSize * LOSS_BYTES_PER_LOGIT };
}

/** Most GPUs one tuning process can spread the layers over. */
export function maxTuningGpus(model: ModelShape): number {
  return Math.min(GPUS_PER_NODE, model.layers);
}

/** n(k): GiB each of `gpus` GPUs needs when one tuning process spreads the layers over them. */
export function tuningPerGpuNeedGiB(input: TuningMemoryInput, gpus: number): number {
  const activations = activationBytes(input);
  const sharded =
    baseWeightBytes(input.model, input.method) +
    loraParameters(input.model, input.loraRank) * ADAPTER_BYTES_PER_PARAMETER +
    activations.layers;
  return (sharded / gpus / GiB + activations.loss / GiB + TUNING_RUNTIME_GIB) * TUNING_FRAGMENTATION;
}

export function tuningMemory(input: TuningMemoryInput): TuningMemory {
  const weights = baseWeightBytes(input.model, input.method) / GiB;
  const trainable = loraParameters(input.model, input.loraRank);
  const adapters = (trainable * ADAPTER_BYTES_PER_PARAMETER) / GiB;
  const act = activationBytes(input);
  const activations = (act.layers + act.loss) / GiB;
  const used = weights + adapters + activations + TUNING_RUNTIME_GIB;
  const total = tuningPerGpuNeedGiB(input, 1);
  return {
    weightsGiB: roundUpGiB(weights),
    adaptersGiB: roundUpGiB(adapters),
    activationsGiB: roundUpGiB(activations),
    runtimeGiB: TUNING_RUNTIME_GIB,
    reserveGiB: roundUpGiB(total - used),
    totalGpuMemoryGiB: roundUpGiB(total),
    minGpuMemoryGiB: roundUpGiB(tuningPerGpuNeedGiB(input, maxTuningGpus(input.model))),
    trainableParameters: trainable,
  };
}
