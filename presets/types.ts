/** Precision a model's weights were published in (Hugging Face `torch_dtype`). */
export type NativeDtype = "bf16" | "fp16";
/** Precision the weights are served in: native 16-bit, or quantized at load time. */
export type ServingDtype = NativeDtype | "int8" | "int4";
export type RuntimeName = "vllm" | "transformers";
export type TuningMethod = "lora" | "qlora";

export const SERVING_DTYPES: readonly ServingDtype[] = ["bf16", "fp16", "int8", "int4"];
export const RUNTIMES: readonly RuntimeName[] = ["vllm", "transformers"];
export const TUNING_METHODS: readonly TuningMethod[] = ["lora", "qlora"];

/**
 * The architecture figures the memory model needs, as a model's Hugging Face config.json states
 * them. `parameters` counts each tensor once (tied input/output embeddings count once).
 */
export interface ModelFigures {
  readonly parameters: number;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly attentionHeads: number;
  /** Key/value heads: equal to attentionHeads for multi-head, fewer for grouped-query attention. */
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Longest context the model accepts (`max_position_embeddings`). */
  readonly maxContext: number;
  readonly dtype: NativeDtype;
  readonly tiedEmbeddings: boolean;
  /**
   * Mixture of experts: the parameters one token passes through (all experts' weights stay in
   * GPU memory; this only marks the model as sparse). Absent for dense models.
   */
  readonly activeParameters?: number;
  /**
   * Multi-head latent attention (DeepSeek V3, Mistral Large 3): the width of the one latent vector
   * cached per token per layer, kv_lora_rank + qk_rope_head_dim (576), instead of a key and a value
   * per KV head. Absent for multi-head and grouped-query attention.
   */
  readonly kvCacheDim?: number;
  /**
   * The checkpoint's weights are stored quantized (config.json quantization_config.quant_method:
   * fp8, mxfp4, compressed-tensors): checkpointGiB, the size of its weight files, is then what the
   * weights take in GPU memory when served as published, not parameters x 2 bytes.
   */
  readonly quantization?: string;
  readonly checkpointGiB?: number;
}

/** Where the serving pod gets the weights from. */
export type WeightsSource =
  /** Baked into a public image: the full reference, e.g. mcr.microsoft.com/aks/kaito/kaito-phi-2:0.1.1. */
  | { readonly kind: "image"; readonly image: string }
  /** Pulled from Hugging Face when the pod starts; gated repos need an access token. */
  | { readonly kind: "download"; readonly gated: boolean }
  /** Licence terms forbid a public image: the user supplies one (presetOptions.image). */
  | { readonly kind: "private" };

export interface Preset {
  readonly name: string;
  readonly family: string;
  /** Hugging Face repository and, when pinned, the commit the figures were read from. */
  readonly huggingFace: { readonly repo: string; readonly revision?: string };
  /** The Hugging Face model class, e.g. LlamaForCausalLM. */
  readonly architecture: string;
  readonly figures: ModelFigures;
  readonly weights: WeightsSource;
  /** Full reference of the image with the runtimes but no weights, used when weights are downloaded. */
  readonly baseImage: string;
  readonly runtimes: readonly RuntimeName[];
  /**
   * False when vLLM cannot shard the model (falcon-7b has 71 attention heads, a prime): one
   * replica must then fit on one GPU.
   */
  readonly tensorParallel: boolean;
  /** Whether one replica may span several nodes (pipeline parallelism across nodes). */
  readonly multiNode: boolean;
  /** Whether vLLM can serve LoRA adapters on top of this model. */
  readonly adapters: boolean;
  /** Preset-specific runtime flags; an empty value is a bare flag. */
  readonly vllmArgs: Readonly<Record<string, string>>;
  readonly transformersArgs: Readonly<Record<string, string>>;
  readonly tuning: readonly TuningMethod[];
  readonly readinessTimeoutMinutes: number;
}
