// The memory model against figures others have published: KAITO's preset requirements and
// sizing rule, vLLM's own memory profile, and the QLoRA paper. Each block cites its source and
// states its tolerance and why.
import { describe, expect, it } from "vitest";
import {
  customPreset,
  gpusForReplica,
  inferenceRequirement,
  kvCapacityTokens,
  mustGetPreset,
  tuningRequirement,
} from "./index.ts";
import { kvBudgetGiB, perGpuNeedGiB } from "./memory/inference.ts";
import { GiB, kvBytesPerToken, weightBytes } from "./memory/weights.ts";
import { resolveServingOptions, servingMemoryInput } from "./requirements.ts";

const within = (actual: number, expected: number, tolerance: number) =>
  expect(Math.abs(actual / expected - 1), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);

// KAITO's on-disk weight sizes: `modelFileSize` in presets/workspace/models/model_catalog.yaml
// (kaito-project/kaito @ 037fb3527ad058fb27b0d07e7e9f798328e6e7a0) and `TotalSafeTensorFileSize`
// in the model.go files (mistral/model.go: "13.49Gi"). Tolerance 1%: KAITO rounds to 0.01 GiB and
// measures files, which add a JSON header to the tensors we count from parameters.
const KAITO_WEIGHTS_GIB: Record<string, number> = {
  "phi-4": 27.31,
  "phi-4-mini-instruct": 7.15,
  "phi-3-mini-4k-instruct": 7.12,
  "phi-3-mini-128k-instruct": 7.12,
  "phi-3-medium-4k-instruct": 26.0,
  "phi-3-medium-128k-instruct": 26.0,
  "phi-3.5-mini-instruct": 7.12,
  "deepseek-r1-distill-llama-8b": 14.96,
  "deepseek-r1-distill-qwen-14b": 27.51,
  "qwen2.5-coder-7b-instruct": 14.19,
  "qwen2.5-coder-32b-instruct": 61.03,
  "llama-3.1-8b-instruct": 14.96,
  "llama-3.3-70b-instruct": 131.42,
  "mistral-7b": 13.49,
  "mistral-7b-instruct": 13.49,
  // KAITO v0.12's presets. Gemma 3's are computed from the parameter count; the quantized
  // checkpoints (Ministral 3, DeepSeek, Mistral Large 3) carry KAITO's size as checkpointGiB.
  "gemma-3-4b-instruct": 8.01,
  "gemma-3-27b-instruct": 51.1,
  "ministral-3-3b-instruct": 4.35,
  "ministral-3-8b-instruct": 9.7,
  "ministral-3-14b-instruct": 14.65,
  "deepseek-r1-0528": 641.3,
  "deepseek-v3-0324": 641.3,
  "mistral-large-3-675b-instruct": 634.7,
};

// KAITO's `BytesPerToken` (2 x layers x kv_heads x head_dim x 2): mistral/model.go,
// qwen/model.go and deepseek/model.go in the versions that carry TotalSafeTensorFileSize, and
// builtin_models.yaml @ 08b6d33e4299c9a5c91fa8bca1813acdeede81a9 for phi-4 and phi-4-mini. Exact.
const KAITO_BYTES_PER_TOKEN: Record<string, number> = {
  "mistral-7b": 131072,
  "mistral-7b-instruct": 131072,
  "qwen2.5-coder-7b-instruct": 57344,
  "qwen2.5-coder-32b-instruct": 262144,
  "deepseek-r1-distill-llama-8b": 131072,
  "deepseek-r1-distill-qwen-14b": 196608,
  "phi-4": 204800,
  "phi-4-mini-instruct": 131072,
  // Latent attention: bytesPerToken of deepseek-v3-1-base in
  // presets/workspace/models/supported_models_best_effort.yaml (61 layers x 576 x 2).
  "deepseek-v3-0324": 70272,
  "deepseek-r1-0528": 70272,
};

describe("weights and KV cache against KAITO's preset data", () => {
  it.each(Object.entries(KAITO_WEIGHTS_GIB))("%s weighs what KAITO's files weigh (1%%)", (name, kaito) => {
    within(inferenceRequirement(mustGetPreset(name)).breakdown.weightsGiB, kaito, 0.01);
  });

  it.each(Object.entries(KAITO_BYTES_PER_TOKEN))(
    "%s caches as many KV bytes per token as KAITO says",
    (name, kaito) => {
      expect(inferenceRequirement(mustGetPreset(name)).breakdown.kvBytesPerToken).toBe(kaito);
    },
  );
});

describe("KAITO v0.12's large presets", () => {
  // presets/workspace/models/gpt/model.go: gpt-oss-120b's TotalGPUMemoryRequirement is "a single
  // 80GB GPU"; OpenAI publishes its MXFP4 checkpoint as 65 GB.
  it("fit gpt-oss-120b on one 80 GB GPU and gpt-oss-20b on one 24 GB GPU", () => {
    expect(gpusForReplica(mustGetPreset("gpt-oss-120b"), 80)).toBe(1);
    expect(gpusForReplica(mustGetPreset("gpt-oss-20b"), 24)).toBe(1);
    within(weightBytes(mustGetPreset("gpt-oss-120b").figures, "bf16") / 1e9, 65, 0.01);
  });

  // DeepSeek V3 and Mistral Large 3 at FP8 (~640 GiB) do not fit 8 x 80 GB with room for a KV
  // cache, which is why KAITO runs them across nodes; 8 x H200 (141 GB) holds one.
  it.each(["deepseek-v3-0324", "deepseek-r1-0528", "mistral-large-3-675b-instruct"])(
    "%s needs more than one 8 x 80 GB node, and fits one 8 x 141 GB node",
    (name) => {
      const preset = mustGetPreset(name);
      expect(gpusForReplica(preset, 80, {}, 8)).toBeUndefined();
      expect(gpusForReplica(preset, 80, {}, 16)).toBe(16);
      expect(gpusForReplica(preset, 141, {}, 8)).toBe(8);
    },
  );
});

describe("single-GPU memory against KAITO's vLLM sizing rule", () => {
  // pkg/workspace/estimator/max_model_len.go (@ 76fb6ade15ac18752841483d891a99c65f53bb66) fits a
  // replica on a GPU of m GiB when 0.84 m >= 1.02 W + 2.3 + 0.05 x 1.02 W + tokens x BytesPerToken,
  // with W the safetensor size and 2048 tokens when the user sets no max-model-len
  // (advancednodesestimator/estimator.go). Solved for m, that is KAITO's single-GPU requirement.
  // We run vLLM at 0.90 utilization where that rule assumes 0.84, and count no 2% load expansion,
  // so we expect to sit about 8% below KAITO (0.84 / 0.90 / 1.02 = 0.915), never above it.
  const kaitoSingleGpu = (weights: number, bytesPerToken: number) =>
    (1.02 * weights + 2.3 + 0.05 * 1.02 * weights + (2048 * bytesPerToken) / GiB) / 0.84;

  it.each(Object.entries(KAITO_WEIGHTS_GIB))(
    "%s needs 90-100%% of what KAITO's rule asks",
    (name, weights) => {
      const preset = mustGetPreset(name);
      const ours = inferenceRequirement(preset, { contextLength: 2048 }).totalGpuMemoryGiB;
      const kaito = kaitoSingleGpu(weights, kvBytesPerToken(preset.figures));
      expect(ours / kaito).toBeGreaterThanOrEqual(0.9);
      expect(ours / kaito).toBeLessThanOrEqual(1.0);
    },
  );
});

describe("totals against KAITO's hand-set TotalGPUMemoryRequirement", () => {
  // presets/workspace/models/*/model.go: falcon, phi2, phi3, phi4, llama3 and qwen @
  // 14a1f5d007f75fc292b0335d87edee0d3aa9808f; llama2 and llama2chat @
  // e4b255b8d893c55eec1779438ce26ad6f5bd3dbc; deepseek @ 13674ad24b250740624c2eac5e6400d10d0b7333;
  // mistral @ 067acbbdfca36793cc28864381a8f555edcfb00f. KAITO set these by hand for its own
  // runtimes and contexts (several carry "TODO: Revisit for more accurate metric"), so we claim
  // agreement within 25%. Some cannot hold the weights plus KAITO's own 2.3 GiB runtime base
  // (deepseek-r1-distill-qwen-14b: 25.7 GiB for 27.5 GiB of weights); there we must ask for more.
  const KAITO_TOTAL_GIB: Record<string, number> = {
    "falcon-7b": 14,
    "falcon-7b-instruct": 14,
    "falcon-40b": 90,
    "falcon-40b-instruct": 90,
    "mistral-7b": 14.43,
    "mistral-7b-instruct": 14.43,
    "phi-2": 12,
    "phi-3-mini-4k-instruct": 9,
    "phi-3-mini-128k-instruct": 9,
    "phi-3-medium-4k-instruct": 28,
    "phi-3-medium-128k-instruct": 28,
    "phi-3.5-mini-instruct": 8,
    "phi-4": 40,
    "llama-2-7b": 14,
    "llama-2-7b-chat": 16,
    "llama-2-13b": 30,
    "llama-2-13b-chat": 30,
    "llama-2-70b": 152,
    "llama-2-70b-chat": 192,
    "llama-3.1-8b-instruct": 22,
    "qwen2.5-coder-7b-instruct": 24,
    "qwen2.5-coder-32b-instruct": 70,
    "deepseek-r1-distill-llama-8b": 14,
    "deepseek-r1-distill-qwen-14b": 25.7,
  };

  it.each(Object.entries(KAITO_TOTAL_GIB))(
    "%s: within 25%% of KAITO, or above a figure too small to run",
    (name, kaito) => {
      const r = inferenceRequirement(mustGetPreset(name));
      if (kaito < r.breakdown.weightsGiB + 2.3) {
        expect(r.totalGpuMemoryGiB).toBeGreaterThan(kaito);
      } else {
        within(r.totalGpuMemoryGiB, kaito, 0.25);
      }
    },
  );

  it("sizes Llama 2's tensor-parallel shards like KAITO's PerGPUMemoryRequirement (25%)", () => {
    // llama2/model.go: 13b on GPUCountRequirement 2 needs 15Gi per GPU, 70b on 8 needs 19Gi.
    for (const [name, gpus, kaito] of [
      ["llama-2-13b", 2, 15],
      ["llama-2-70b", 8, 19],
    ] as const) {
      const preset = mustGetPreset(name);
      const perGpu = perGpuNeedGiB(servingMemoryInput(preset, resolveServingOptions(preset)), gpus);
      within(perGpu, kaito, 0.25);
    }
  });
});

describe("tuning against KAITO's tuning requirements", () => {
  // Tuning memory per preset: TotalSafeTensorFileSize in
  // presets/workspace/models/transformer_runtime_tuning_parameters.go (@ dd4a97213850f2ec4d41e05863226624e30f6af4)
  // and TotalGPUMemoryRequirement of GetTuningParameters in falcon/phi2 model.go @ 14a1f5d0.
  // KAITO's trainer pads each batch to its longest sample, so its peak depends on the dataset
  // and these are generous hand figures (phi-3-mini: 72Gi, "Requires at least A100"). We check
  // that we never ask for much more than KAITO found enough (at most 35% more), and that for
  // the 7B-class models, set at 16-24 GiB, we are within a factor of two.
  const KAITO_TUNING_GIB: Record<string, number> = {
    "falcon-7b": 16,
    "falcon-40b": 90,
    "mistral-7b": 16,
    "phi-2": 16,
    "qwen2.5-coder-7b-instruct": 24,
    "qwen2.5-coder-32b-instruct": 140,
    "phi-4": 70,
    "phi-4-mini-instruct": 72,
    "phi-3-mini-4k-instruct": 72,
    "phi-3-mini-128k-instruct": 72,
    "phi-3-medium-4k-instruct": 80,
    "phi-3-medium-128k-instruct": 80,
    "phi-3.5-mini-instruct": 72,
  };
  const SEVEN_B_CLASS = new Set(["falcon-7b", "mistral-7b", "phi-2", "qwen2.5-coder-7b-instruct"]);

  it.each(Object.entries(KAITO_TUNING_GIB))("%s LoRA asks at most 35%% more than KAITO", (name, kaito) => {
    const ours = tuningRequirement(mustGetPreset(name), "lora").totalGpuMemoryGiB;
    expect(ours).toBeLessThanOrEqual(kaito * 1.35);
    if (SEVEN_B_CLASS.has(name)) expect(ours).toBeGreaterThanOrEqual(kaito / 2);
  });

  it("fits falcon-7b QLoRA on the 16 GiB GPU KAITO gives it", () => {
    // falcon/model.go @ 14a1f5d0: TuningPerGPUMemoryRequirement {"qlora": 16}.
    expect(tuningRequirement(mustGetPreset("falcon-7b"), "qlora").totalGpuMemoryGiB).toBeLessThanOrEqual(16);
  });

  it("spreads falcon-40b LoRA over GPUs as KAITO does (2 GPUs, 16Gi each at least)", () => {
    // falcon/model.go @ 14a1f5d0: GPUCountRequirement 2, PerGPUMemoryRequirement 16Gi.
    const r = tuningRequirement(mustGetPreset("falcon-40b"), "lora");
    expect(r.minGpuMemoryGiB).toBeLessThanOrEqual(16);
    expect(r.totalGpuMemoryGiB).toBeGreaterThan(80);
  });
});

describe("against vLLM's own memory profile", () => {
  // vllm-project/vllm#10517: Llama-3.1-8B-Instruct on an RTX 3090, gpu_memory_utilization 0.90:
  // "Loading model weights took 14.9888 GB" (GiB, as vLLM computes it), total_gpu_memory=23.58GiB,
  // kv_cache_size=3.81GiB; --max-model-len 20000 starts, 29000 is refused.
  const llama = () => mustGetPreset("llama-3.1-8b-instruct");

  it("loads the same weights (0.5%)", () => {
    within(weightBytes(llama().figures, "bf16") / GiB, 14.9888, 0.005);
  });

  it("leaves a KV cache 75-100% of vLLM's: conservative, never more", () => {
    // vLLM measured 2.42 GiB of activations and runtime; we assume 3.05, so 16% less KV room.
    const input = servingMemoryInput(llama(), resolveServingOptions(llama()));
    const ours = kvBudgetGiB(input, 23.58, 1);
    expect(ours / 3.81).toBeGreaterThanOrEqual(0.75);
    expect(ours / 3.81).toBeLessThanOrEqual(1.0);
  });

  it("agrees on which contexts fit that GPU", () => {
    const capacity = kvCapacityTokens(llama(), 23.58, 1);
    expect(capacity).toBeGreaterThanOrEqual(20000);
    expect(capacity).toBeLessThan(29000);
  });
});

describe("against the QLoRA paper", () => {
  // Dettmers et al. 2023, "QLoRA: Efficient Finetuning of Quantized LLMs" (arXiv:2305.14314),
  // abstract: QLoRA "reduces memory usage enough to finetune a 65B parameter model on a single
  // 48GB GPU", with gradient checkpointing. LLaMA-65B figures from its params.json: 80 layers,
  // dim 8192, 64 heads, vocab 32000, FFN 22016 (65,285,660,672 parameters).
  const llama65b = customPreset({
    parameters: 65_285_660_672,
    layers: 80,
    hiddenSize: 8192,
    attentionHeads: 64,
    vocabSize: 32000,
    maxContext: 2048,
  });

  it("fits 65B QLoRA with gradient checkpointing on one 48 GiB GPU, and 16-bit LoRA nowhere near", () => {
    const qlora = tuningRequirement(llama65b, "qlora", { gradientCheckpointing: true });
    expect(qlora.totalGpuMemoryGiB).toBeLessThanOrEqual(48);
    expect(qlora.totalGpuMemoryGiB).toBeGreaterThan(32); // the 4-bit weights alone are 32 GiB
    expect(
      tuningRequirement(llama65b, "lora", { gradientCheckpointing: true }).totalGpuMemoryGiB,
    ).toBeGreaterThan(120);
  });
});
