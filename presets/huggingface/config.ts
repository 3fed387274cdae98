/**
 * A preset for any Hugging Face model, sized from its config.json and the Hub's model info, as
 * KAITO v0.9+ serves "best effort" models: vLLM on the base image, weights downloaded at start.
 * Pure: the Hub client (hub.ts) fetches, this reads.
 *
 * Figures, from config.json (or its text_config, for multimodal models):
 *   layers, hidden size, attention heads, KV heads (num_key_value_heads; 1 for multi_query),
 *   head_dim (or hidden / heads; qk_nope + qk_rope for latent attention), vocab_size,
 *   max_position_embeddings, torch_dtype, tie_word_embeddings (transformers' default: true),
 *   experts (num_local_experts / n_routed_experts / num_experts, num_experts_per_tok,
 *   moe_intermediate_size, n_shared_experts, first_k_dense_replace), latent attention
 *   (kv_lora_rank + qk_rope_head_dim), quantization_config.quant_method.
 * Parameters: the Hub's safetensors count where it is exact (16-bit and fp8 checkpoints), else an
 * estimate from the figures (packed 4-bit checkpoints count bytes, not parameters). A quantized
 * checkpoint's size in memory is the sum of its tensors' bytes by dtype, which the Hub reports.
 */
import { embeddedCatalog } from "../catalog/load.ts";
import { figureProblems } from "../figures.ts";
import type { ModelFigures, NativeDtype, Preset } from "../types.ts";
import { HuggingFaceError } from "./errors.ts";

const GiB = 1024 ** 3;

/** What GET /api/models/<id> says that matters here. */
export interface ModelInfo {
  /** The commit the default branch (or the revision asked for) points at. */
  sha?: string;
  /** false, "auto" or "manual" on the Hub: anything but false needs a token to download. */
  gated: boolean;
  /** Tensor element counts by safetensors dtype, and their total. */
  safetensors?: { parameters: Record<string, number>; total?: number };
}

export function parseModelInfo(json: unknown): ModelInfo {
  const o = (json ?? {}) as Record<string, unknown>;
  const st = o.safetensors as { parameters?: unknown; total?: unknown } | undefined;
  const counts: Record<string, number> = {};
  if (st && typeof st.parameters === "object" && st.parameters !== null) {
    for (const [dtype, n] of Object.entries(st.parameters as Record<string, unknown>))
      if (typeof n === "number" && n > 0) counts[dtype] = n;
  }
  return {
    ...(typeof o.sha === "string" ? { sha: o.sha } : {}),
    gated: o.gated !== undefined && o.gated !== false && o.gated !== null,
    ...(Object.keys(counts).length > 0
      ? { safetensors: { parameters: counts, ...(typeof st?.total === "number" ? { total: st.total } : {}) } }
      : {}),
  };
}

/** Bytes per element of the safetensors dtypes. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  I64: 8,
  U64: 8,
  F32: 4,
  I32: 4,
  U32: 4,
  BF16: 2,
  F16: 2,
  I16: 2,
  U16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
/** Dtypes that store several parameters per element (packed 4-bit weights). */
const PACKED = new Set(["I32", "U32", "U8", "I8"]);

type Json = Record<string, unknown>;

function first(cfgs: Json[], keys: string[]): number | undefined {
  for (const cfg of cfgs)
    for (const k of keys) {
      const v = cfg[k];
      if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
    }
  return undefined;
}

function flag(cfgs: Json[], key: string): boolean | undefined {
  for (const cfg of cfgs) if (typeof cfg[key] === "boolean") return cfg[key] as boolean;
  return undefined;
}

function dtypeOf(cfgs: Json[]): NativeDtype {
  for (const cfg of cfgs) {
    const v = cfg.torch_dtype ?? cfg.dtype;
    if (v === "bfloat16") return "bf16";
    // vLLM's --dtype auto serves float16 and float32 checkpoints in float16.
    if (v === "float16" || v === "float32") return "fp16";
  }
  return "bf16";
}

/** The architecture figures config.json gives, before the parameter count. */
export interface ConfigShape {
  architecture: string;
  modelType: string;
  layers: number;
  hiddenSize: number;
  attentionHeads: number;
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  maxContext: number;
  dtype: NativeDtype;
  tiedEmbeddings: boolean;
  intermediateSize: number;
  experts?: { total: number; active: number; shared: number; width: number; denseLayers: number };
  latent?: { kvLoraRank: number; ropeDim: number; nopeDim: number; vDim: number; qLoraRank?: number };
  quantization?: string;
}

/** Reads config.json; a missing figure is a HuggingFaceError naming it. */
export function readConfig(model: string, config: unknown): ConfigShape {
  const top = (config ?? {}) as Json;
  const text = (
    typeof top.text_config === "object" && top.text_config !== null ? top.text_config : {}
  ) as Json;
  // A multimodal model's language figures sit in text_config; the top level may repeat or override.
  const cfgs = [text, top];
  const need = (keys: string[]) => {
    const v = first(cfgs, keys);
    if (v === undefined)
      throw new HuggingFaceError(
        "ModelUnsupported",
        model,
        `config.json of "${model}" has no ${keys[0]}, so kaito cannot size it; name a catalogue preset or another model.`,
      );
    return v;
  };
  const layers = need(["num_hidden_layers", "n_layer", "num_layers", "n_layers"]);
  const hiddenSize = need(["hidden_size", "n_embd", "d_model", "dim"]);
  const attentionHeads = need(["num_attention_heads", "n_head", "n_heads", "num_heads"]);
  const vocabSize = need(["vocab_size", "padded_vocab_size"]);
  const multiQuery = flag(cfgs, "multi_query") === true;
  const kvHeads =
    first(cfgs, ["num_key_value_heads", "n_head_kv", "num_kv_heads"]) ?? (multiQuery ? 1 : attentionHeads);
  const kvLoraRank = first(cfgs, ["kv_lora_rank"]);
  const ropeDim = first(cfgs, ["qk_rope_head_dim"]);
  const nopeDim = first(cfgs, ["qk_nope_head_dim"]);
  const latent =
    kvLoraRank !== undefined && ropeDim !== undefined
      ? {
          kvLoraRank,
          ropeDim,
          nopeDim: nopeDim ?? 128,
          vDim: first(cfgs, ["v_head_dim"]) ?? nopeDim ?? 128,
          qLoraRank: first(cfgs, ["q_lora_rank"]),
        }
      : undefined;
  const headDim =
    first(cfgs, ["head_dim"]) ??
    (latent ? latent.nopeDim + latent.ropeDim : Math.round(hiddenSize / attentionHeads));
  const expertCount = first(cfgs, [
    "num_local_experts",
    "n_routed_experts",
    "num_experts",
    "moe_num_experts",
  ]);
  const intermediateSize = first(cfgs, ["intermediate_size", "n_inner", "ffn_dim"]) ?? 4 * hiddenSize;
  const experts =
    expertCount !== undefined && expertCount > 1
      ? {
          total: expertCount,
          active:
            first(cfgs, ["num_experts_per_tok", "experts_per_token", "num_experts_per_token", "moe_top_k"]) ??
            2,
          shared: first(cfgs, ["n_shared_experts", "num_shared_experts"]) ?? 0,
          width: first(cfgs, ["moe_intermediate_size", "expert_intermediate_size"]) ?? intermediateSize,
          denseLayers: first(cfgs, ["first_k_dense_replace"]) ?? 0,
        }
      : undefined;
  const quant = (top.quantization_config ?? text.quantization_config) as
    { quant_method?: unknown } | undefined;
  const architectures = Array.isArray(top.architectures) ? top.architectures : [];
  return {
    architecture: typeof architectures[0] === "string" ? architectures[0] : "Unknown",
    modelType: typeof top.model_type === "string" ? top.model_type : "unknown",
    layers,
    hiddenSize,
    attentionHeads,
    kvHeads,
    headDim,
    vocabSize,
    // Without a stated limit, size for the common 4096 tokens rather than refuse the model.
    maxContext:
      first(cfgs, ["max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"]) ?? 4096,
    dtype: dtypeOf(cfgs),
    tiedEmbeddings: flag(cfgs, "tie_word_embeddings") ?? true,
    intermediateSize,
    ...(experts ? { experts } : {}),
    ...(latent ? { latent } : {}),
    ...(typeof quant?.quant_method === "string" ? { quantization: quant.quant_method } : {}),
  };
}

/** Parameters of the language model the figures describe (norms and biases left out). */
export function estimateParameters(s: ConfigShape): { total: number; active: number } {
  const h = s.hiddenSize;
  const embedding = s.vocabSize * h * (s.tiedEmbeddings ? 1 : 2);
  let attention: number;
  if (s.latent) {
    const l = s.latent;
    const qk = l.nopeDim + l.ropeDim;
    const q = l.qLoraRank ? h * l.qLoraRank + l.qLoraRank * s.attentionHeads * qk : h * s.attentionHeads * qk;
    const kv = h * (l.kvLoraRank + l.ropeDim) + l.kvLoraRank * s.attentionHeads * (l.nopeDim + l.vDim);
    attention = q + kv + s.attentionHeads * l.vDim * h;
  } else {
    const width = s.attentionHeads * s.headDim;
    attention = 2 * h * width + 2 * h * s.kvHeads * s.headDim;
  }
  // Gated MLPs (SwiGLU and kin) have three matrices; every current decoder uses one.
  const dense = 3 * h * s.intermediateSize;
  if (!s.experts) {
    const total = embedding + s.layers * (attention + dense);
    return { total, active: total };
  }
  const e = s.experts;
  const moeLayers = Math.max(0, s.layers - e.denseLayers);
  const expert = 3 * h * e.width;
  const perMoeLayer = attention + (e.total + e.shared) * expert + h * e.total;
  const total = embedding + e.denseLayers * (attention + dense) + moeLayers * perMoeLayer;
  return { total, active: total - moeLayers * (e.total - e.active) * expert };
}

/** Bytes of a quantized checkpoint when the Hub does not report them: by method, embeddings in 16-bit. */
function estimatedCheckpointBytes(s: ConfigShape, parameters: number): number {
  const embedding = Math.min(s.vocabSize * s.hiddenSize * (s.tiedEmbeddings ? 1 : 2), parameters);
  const bits = /fp8|compressed/.test(s.quantization ?? "")
    ? 8
    : /awq|gptq|mxfp4|bitsandbytes|4bit/.test(s.quantization ?? "")
      ? 4.25
      : 16;
  return (parameters - embedding) * (bits / 8) + embedding * 2;
}

export interface HuggingFacePresetOptions {
  /** The revision asked for ("main" by default); the preset pins the commit the Hub resolved. */
  revision?: string;
}

/** The preset that serves `model` with vLLM on the base image, downloading its weights at start. */
export function huggingFacePreset(
  model: string,
  config: unknown,
  info: ModelInfo,
  o: HuggingFacePresetOptions = {},
): Preset {
  const shape = readConfig(model, config);
  const estimate = estimateParameters(shape);
  const counts = info.safetensors?.parameters ?? {};
  const reported = info.safetensors?.total ?? Object.values(counts).reduce((a, b) => a + b, 0);
  const packed = Object.keys(counts).some((d) => PACKED.has(d));
  // Packed dtypes count storage elements, not parameters; the estimate then stands in.
  const parameters = reported > 0 && !packed ? reported : Math.max(reported, estimate.total);
  const bytes = Object.entries(counts).reduce((sum, [d, n]) => sum + n * (DTYPE_BYTES[d] ?? 2), 0);
  const quantized = shape.quantization !== undefined;
  const figures: ModelFigures = {
    parameters,
    layers: shape.layers,
    hiddenSize: shape.hiddenSize,
    attentionHeads: shape.attentionHeads,
    kvHeads: shape.kvHeads,
    headDim: shape.headDim,
    vocabSize: shape.vocabSize,
    maxContext: shape.maxContext,
    dtype: shape.dtype,
    tiedEmbeddings: shape.tiedEmbeddings,
    ...(shape.experts ? { activeParameters: Math.min(parameters, Math.max(1, estimate.active)) } : {}),
    ...(shape.latent ? { kvCacheDim: shape.latent.kvLoraRank + shape.latent.ropeDim } : {}),
    ...(quantized
      ? {
          quantization: shape.quantization,
          checkpointGiB: (bytes > 0 ? bytes : estimatedCheckpointBytes(shape, parameters)) / GiB,
        }
      : {}),
  };
  const problems = figureProblems(figures, false);
  if (problems.length > 0) {
    throw new HuggingFaceError(
      "ModelUnsupported",
      model,
      `the config.json of "${model}" does not add up (${problems[0]}); name a catalogue preset or another model.`,
    );
  }
  const weightsGiB = figures.checkpointGiB ?? (parameters * 2) / GiB;
  const revision = info.sha ?? (o.revision && o.revision !== "main" ? o.revision : undefined);
  return {
    name: model,
    family: shape.modelType,
    huggingFace: { repo: model, ...(revision ? { revision } : {}) },
    architecture: shape.architecture,
    figures,
    weights: { kind: "download", gated: info.gated },
    baseImage: embeddedCatalog().hubBaseImage,
    // KAITO runs Hugging Face models on vLLM only ("best effort").
    runtimes: ["vllm"],
    tensorParallel: true,
    multiNode: true,
    adapters: false,
    vllmArgs: {},
    transformersArgs: {},
    tuning: [],
    // Downloading is most of the start: give big models longer (about 10 GiB a minute).
    readinessTimeoutMinutes: Math.max(30, Math.ceil(weightsGiB / 10)),
  };
}
