import type { ModelFigures, ServingDtype } from "../types.ts";

export const GiB = 1024 ** 3;

/** The figures the memory math reads; a preset's full figures satisfy it. */
export type ModelShape = Pick<
  ModelFigures,
  | "parameters"
  | "layers"
  | "hiddenSize"
  | "attentionHeads"
  | "kvHeads"
  | "headDim"
  | "vocabSize"
  | "tiedEmbeddings"
  | "kvCacheDim"
  | "checkpointGiB"
>;

/**
 * Bytes per weight when served in `dtype`. int4 is 4.25 bits: 4-bit values plus a 16-bit scale
 * and zero point per group of 128 (the GPTQ/AWQ layout; bitsandbytes NF4 with its fp32 block
 * scales is within 0.1 bit of it). int8 per-channel scales add well under 0.1%.
 */
export function bytesPerWeight(dtype: ServingDtype): number {
  switch (dtype) {
    case "bf16":
    case "fp16":
      return 2;
    case "int8":
      return 1;
    case "int4":
      return 4.25 / 8;
  }
}

/** Parameters in the input embedding and output head; tied models share one table. */
export function embeddingParameters(model: ModelShape): number {
  return model.vocabSize * model.hiddenSize * (model.tiedEmbeddings ? 1 : 2);
}

/**
 * Bytes of weights in GPU memory. Quantizing runtimes (vLLM fp8 and bitsandbytes, GPTQ and AWQ
 * checkpoints alike) leave the embedding table and output head in 16-bit, so only the rest shrinks.
 * A checkpoint published quantized (checkpointGiB) loads as it is stored; quantizing it further
 * on load can only make it smaller.
 */
export function weightBytes(
  model: ModelShape,
  dtype: ServingDtype,
  bytesPerQuantizedWeight = bytesPerWeight(dtype),
): number {
  const stored = model.checkpointGiB === undefined ? Infinity : model.checkpointGiB * GiB;
  if (dtype === "bf16" || dtype === "fp16") return Math.min(model.parameters * 2, stored);
  const embedding = Math.min(embeddingParameters(model), model.parameters);
  return Math.min((model.parameters - embedding) * bytesPerQuantizedWeight + embedding * 2, stored);
}

/**
 * KV-cache bytes one token occupies: a key and a value vector per KV head per layer, kept in
 * 16-bit whatever the weight precision. This is KAITO's `BytesPerToken`
 * (pkg/model/interface.go: 2 x layers x kv_heads x head_dim x dtype size). Multi-head latent
 * attention caches one latent of kvCacheDim per layer instead: DeepSeek V3's 61 x 576 x 2 = 70272
 * bytes, KAITO's bytesPerToken for it (presets/workspace/models/supported_models_best_effort.yaml).
 */
export function kvBytesPerToken(model: ModelShape): number {
  if (model.kvCacheDim !== undefined) return model.layers * model.kvCacheDim * 2;
  return 2 * model.layers * model.kvHeads * model.headDim * 2;
}

/** Rounds a GiB figure up to the next 0.01, so reported figures never understate. */
export function roundUpGiB(value: number): number {
  return Math.ceil(value * 100 - 1e-9) / 100;
}
