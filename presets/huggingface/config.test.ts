import { describe, expect, it } from "vitest";
import { inferenceRequirement, mustGetPreset } from "../index.ts";
import { huggingFacePreset, parseModelInfo, readConfig, estimateParameters } from "./config.ts";
import { isHuggingFaceError } from "./errors.ts";
import { isHuggingFaceModelId } from "./ids.ts";
import { checkPresetName } from "../index.ts";

// config.json of meta-llama/Llama-3.1-8B-Instruct (the catalogue preset's figures come from it).
const llama31 = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  tie_word_embeddings: false,
  torch_dtype: "bfloat16",
};

// DeepSeek-V3's config.json: latent attention and 256 routed experts, FP8.
const deepseekV3 = {
  architectures: ["DeepseekV3ForCausalLM"],
  model_type: "deepseek_v3",
  hidden_size: 7168,
  intermediate_size: 18432,
  moe_intermediate_size: 2048,
  num_hidden_layers: 61,
  num_attention_heads: 128,
  num_key_value_heads: 128,
  n_routed_experts: 256,
  n_shared_experts: 1,
  num_experts_per_tok: 8,
  first_k_dense_replace: 3,
  kv_lora_rank: 512,
  q_lora_rank: 1536,
  qk_nope_head_dim: 128,
  qk_rope_head_dim: 64,
  v_head_dim: 128,
  vocab_size: 129280,
  max_position_embeddings: 163840,
  tie_word_embeddings: false,
  torch_dtype: "bfloat16",
  quantization_config: { quant_method: "fp8", fmt: "e4m3" },
};

describe("sizing a Hugging Face model from its config.json", () => {
  it("reads the same figures the catalogue has for Llama 3.1 8B, and sizes it the same", () => {
    const preset = huggingFacePreset("meta-llama/Llama-3.1-8B-Instruct", llama31, {
      gated: true,
      sha: "0e9e39f249a16976918f6564b8830bc894c89659",
      safetensors: { parameters: { BF16: 8030261248 }, total: 8030261248 },
    });
    const catalogue = mustGetPreset("llama-3.1-8b-instruct");
    const { parameters, layers, hiddenSize, attentionHeads, kvHeads, headDim, vocabSize, maxContext } =
      catalogue.figures;
    expect(preset.figures).toMatchObject({
      parameters,
      layers,
      hiddenSize,
      attentionHeads,
      kvHeads,
      headDim,
      vocabSize,
      maxContext,
      dtype: "bf16",
    });
    expect(inferenceRequirement(preset).totalGpuMemoryGiB).toBe(
      inferenceRequirement(catalogue).totalGpuMemoryGiB,
    );
    expect(preset.weights).toEqual({ kind: "download", gated: true });
    expect(preset.huggingFace).toEqual({
      repo: "meta-llama/Llama-3.1-8B-Instruct",
      revision: "0e9e39f249a16976918f6564b8830bc894c89659",
    });
    expect(preset.runtimes).toEqual(["vllm"]);
  });

  it("estimates parameters within 1% of the published count when the Hub reports none", () => {
    const est = estimateParameters(readConfig("x/y", llama31));
    expect(Math.abs(est.total / 8030261248 - 1)).toBeLessThan(0.01);
    const ds = estimateParameters(readConfig("x/y", deepseekV3));
    // DeepSeek publishes 671B total and 37B active for the main model.
    expect(Math.abs(ds.total / 671e9 - 1)).toBeLessThan(0.01);
    expect(Math.abs(ds.active / 37e9 - 1)).toBeLessThan(0.03);
  });

  it("sizes DeepSeek V3 as the catalogue preset: latent KV cache and the FP8 checkpoint's bytes", () => {
    const preset = huggingFacePreset("deepseek-ai/DeepSeek-V3-0324", deepseekV3, {
      gated: false,
      // The Hub's counts: FP8 weights, bf16 embeddings and norms, fp32 scales.
      safetensors: { parameters: { F8_E4M3: 680e9, BF16: 3.9e9, F32: 0.6e9 } },
    });
    expect(preset.figures.kvCacheDim).toBe(576);
    expect(inferenceRequirement(preset).breakdown.kvBytesPerToken).toBe(70272);
    expect(preset.figures.quantization).toBe("fp8");
    expect(preset.figures.checkpointGiB).toBeCloseTo((680e9 + 2 * 3.9e9 + 4 * 0.6e9) / 1024 ** 3, 6);
    const catalogue = inferenceRequirement(mustGetPreset("deepseek-v3-0324")).breakdown.weightsGiB;
    expect(Math.abs(inferenceRequirement(preset).breakdown.weightsGiB / catalogue - 1)).toBeLessThan(0.02);
  });

  it("takes a multimodal model's language figures from text_config", () => {
    const shape = readConfig("google/gemma-3-4b-it", {
      architectures: ["Gemma3ForConditionalGeneration"],
      model_type: "gemma3",
      text_config: {
        hidden_size: 2560,
        intermediate_size: 10240,
        num_hidden_layers: 34,
        num_attention_heads: 8,
        num_key_value_heads: 4,
        head_dim: 256,
        vocab_size: 262208,
        max_position_embeddings: 131072,
      },
      torch_dtype: "bfloat16",
    });
    expect(shape).toMatchObject({
      layers: 34,
      hiddenSize: 2560,
      headDim: 256,
      vocabSize: 262208,
      tiedEmbeddings: true,
    });
  });

  it("refuses a config.json without the figures, naming the one missing", () => {
    try {
      huggingFacePreset("someone/odd", { model_type: "odd", hidden_size: 4096 }, { gated: false });
      expect.unreachable();
    } catch (e) {
      expect(isHuggingFaceError(e) && e.code).toBe("ModelUnsupported");
      expect((e as Error).message).toContain("has no num_hidden_layers");
    }
  });

  it("reads the model info's gated flag and safetensors counts", () => {
    expect(
      parseModelInfo({ sha: "abc", gated: "manual", safetensors: { parameters: { BF16: 5 }, total: 5 } }),
    ).toEqual({
      sha: "abc",
      gated: true,
      safetensors: { parameters: { BF16: 5 }, total: 5 },
    });
    expect(parseModelInfo({ gated: false }).gated).toBe(false);
  });
});

describe("preset names", () => {
  it("accept catalogue presets, their Hugging Face ids, and any organisation/name id", () => {
    expect(checkPresetName("phi-3-mini-4k-instruct")).toBeUndefined();
    expect(checkPresetName("google/gemma-3-4b-it")).toBeUndefined();
    expect(mustGetPreset("google/gemma-3-4b-it").name).toBe("gemma-3-4b-instruct");
    expect(checkPresetName("Qwen/Qwen3-8B")).toBeUndefined();
    expect(checkPresetName("phi-3-mini")).toMatch(/^unknown preset "phi-3-mini"; did you mean/);
  });

  it.each(["Qwen/Qwen3-8B", "a/b", "org.x/model_v1.5"])("%s is a Hugging Face id", (id) =>
    expect(isHuggingFaceModelId(id)).toBe(true),
  );
  it.each(["qwen3", "a/b/c", "/b", "a/", "a/-b", "a/b.", "a--x/b", "a/b..c", `a/${"x".repeat(95)}`])(
    "%s is not",
    (id) => expect(isHuggingFaceModelId(id)).toBe(false),
  );
});
