/**
 * The models the stand-in serves. Figures are the models' own config.json values; the commit
 * shas are the stand-in's (any 40 hex digits; the Hub's real ones are not needed to test sizing).
 */
export interface StandinModel {
  id: string;
  sha: string;
  /** false, or the Hub's "auto" / "manual": downloads need a token that was granted access. */
  gated: false | "auto" | "manual";
  /** Files at the model's one revision besides config.json (which `config` is). */
  config: Record<string, unknown>;
  /** The Hub's safetensors summary: element counts by dtype. */
  safetensors?: Record<string, number>;
}

export const qwen3_8b: StandinModel = {
  id: "Qwen/Qwen3-8B",
  sha: "9c925d64d72725edaf899c6cb9c377fd0709d9c5",
  gated: false,
  config: {
    architectures: ["Qwen3ForCausalLM"],
    model_type: "qwen3",
    hidden_size: 4096,
    intermediate_size: 12288,
    num_hidden_layers: 36,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 128,
    vocab_size: 151936,
    max_position_embeddings: 40960,
    tie_word_embeddings: false,
    torch_dtype: "bfloat16",
    hidden_act: "silu",
  },
  safetensors: { BF16: 8190735360 },
};

export const llama32_1b: StandinModel = {
  id: "meta-llama/Llama-3.2-1B-Instruct",
  sha: "e9f8effbab1cbdc515c11ee6e098e3d5a9f51e14",
  gated: "manual",
  config: {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    vocab_size: 128256,
    max_position_embeddings: 131072,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
  },
  safetensors: { BF16: 1235814400 },
};

/** gpt-oss-20b: MXFP4 experts stored as packed U8 blocks and scales, the rest bf16. */
export const gptOss20b: StandinModel = {
  id: "openai/gpt-oss-20b",
  sha: "6cee5e81ee83917806bbde320786a8fb61efebee",
  gated: false,
  config: {
    architectures: ["GptOssForCausalLM"],
    model_type: "gpt_oss",
    hidden_size: 2880,
    intermediate_size: 2880,
    num_hidden_layers: 24,
    num_attention_heads: 64,
    num_key_value_heads: 8,
    head_dim: 64,
    vocab_size: 201088,
    max_position_embeddings: 131072,
    num_local_experts: 32,
    experts_per_token: 4,
    tie_word_embeddings: false,
    torch_dtype: "bfloat16",
    quantization_config: { quant_method: "mxfp4" },
  },
  // 19,110,297,600 expert weights at 4 bits (two per byte) plus one scale byte per 32 of them.
  safetensors: { BF16: 1804459584, U8: 10152345600 },
};

/** A repository without config.json (a dataset-like or GGUF-only repo). */
export const noConfig: StandinModel = {
  id: "someone/gguf-only",
  sha: "0f3c1b2a4d5e6f708192a3b4c5d6e7f8091a2b3c",
  gated: false,
  config: {},
};

export const standinModels: readonly StandinModel[] = [qwen3_8b, llama32_1b, gptOss20b, noConfig];

/** Tokens the stand-in accepts: one granted every gated model, one granted none. */
export const grantedToken = "hf_standin_granted_0123456789abcdef";
export const ungrantedToken = "hf_standin_ungranted_0123456789abcd";
