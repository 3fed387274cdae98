import { describe, expect, it } from "vitest";
import { isUserError } from "../lib/errors.ts";
import {
  customPreset,
  gpusForReplica,
  gpusForTuning,
  inferenceRequirement,
  mustGetPreset,
  resolveServingOptions,
  tuningRequirement,
} from "./index.ts";

function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isUserError(e)) return e.message;
    throw e;
  }
  throw new Error("expected a UserError");
}

describe("serving options", () => {
  it("defaults to vLLM, the model's dtype, one sequence and 4096 tokens or the model's limit", () => {
    expect(resolveServingOptions(mustGetPreset("llama-3.1-8b-instruct"))).toEqual({
      runtime: "vllm",
      contextLength: 4096,
      concurrency: 1,
      dtype: "bf16",
    });
    expect(resolveServingOptions(mustGetPreset("phi-2"))).toMatchObject({
      contextLength: 2048,
      dtype: "fp16",
    });
  });

  it("rejects options the preset cannot honour, saying what to use instead", () => {
    const phi2 = mustGetPreset("phi-2");
    expect(userError(() => inferenceRequirement(phi2, { contextLength: 4096 }))).toBe(
      'context length 4096 exceeds the 2048-token limit of "phi-2"; use at most 2048.',
    );
    expect(userError(() => inferenceRequirement(phi2, { concurrency: 0 }))).toBe(
      "concurrency must be a positive whole number of requests, got 0.",
    );
    expect(userError(() => inferenceRequirement(phi2, { contextLength: 10.5 }))).toMatch(
      /context length must be a positive whole number/,
    );
    expect(userError(() => inferenceRequirement(phi2, { dtype: "fp8" as never }))).toBe(
      'dtype must be one of bf16, fp16, int8, int4, got "fp8".',
    );
  });

  it("shrinks the weights with quantization but keeps the KV cache in 16-bit", () => {
    const p = mustGetPreset("llama-3.3-70b-instruct");
    const bf16 = inferenceRequirement(p);
    const int4 = inferenceRequirement(p, { dtype: "int4" });
    expect(int4.breakdown.weightsGiB).toBeLessThan(bf16.breakdown.weightsGiB / 3);
    expect(int4.breakdown.kvCacheGiB).toBe(bf16.breakdown.kvCacheGiB);
    // A 4-bit 70B with a 4k context fits one 80 GiB GPU; in bf16 it takes two, just: each
    // needs (131.42 x 1.05 / 2 + 1.25 / 2 + 2.3) / 0.9 = 79.9 GiB.
    expect(gpusForReplica(p, 80, { dtype: "int4" })).toBe(1);
    expect(gpusForReplica(p, 80)).toBe(2);
    expect(gpusForReplica(p, 79)).toBe(4);
  });

  it("never lets the planner's rule pick a GPU below the minimum, nor the minimum fail its own count", () => {
    for (const name of [
      "falcon-7b",
      "phi-3-medium-4k-instruct",
      "llama-2-70b",
      "qwen2.5-coder-7b-instruct",
    ]) {
      const p = mustGetPreset(name);
      const r = inferenceRequirement(p);
      expect(gpusForReplica(p, r.minGpuMemoryGiB)).toBe(r.maxGpusPerReplica);
      expect(gpusForReplica(p, r.totalGpuMemoryGiB)).toBe(1);
      expect(gpusForReplica(p, r.minGpuMemoryGiB - 0.01)).toBeUndefined();
    }
  });
});

describe("tuning options", () => {
  it("refuses presets and methods that cannot be tuned", () => {
    expect(userError(() => tuningRequirement(mustGetPreset("llama-3.1-8b-instruct"), "lora"))).toMatch(
      /^preset "llama-3.1-8b-instruct" does not support tuning/,
    );
    expect(userError(() => tuningRequirement(mustGetPreset("phi-2"), "lora", { sequenceLength: 0 }))).toMatch(
      /sequence length must be a positive whole number/,
    );
  });

  it("uses KAITO's template defaults: rank 8, batch 1", () => {
    expect(tuningRequirement(mustGetPreset("phi-2"), "qlora").settings).toEqual({
      sequenceLength: 1024,
      batchSize: 1,
      loraRank: 8,
      gradientCheckpointing: false,
    });
  });

  it("counts GPUs for a model too big for one", () => {
    const falcon40b = mustGetPreset("falcon-40b");
    expect(gpusForTuning(falcon40b, "lora", 80)).toBe(2);
    expect(gpusForTuning(falcon40b, "qlora", 80)).toBe(1);
    expect(gpusForTuning(falcon40b, "lora", 8)).toBeUndefined();
  });
});

describe("custom models", () => {
  it("fills in multi-head attention, head dim and vocabulary when not given", () => {
    const p = customPreset({ parameters: 6.74e9, layers: 32, hiddenSize: 4096, attentionHeads: 32 });
    expect(p.figures).toMatchObject({ kvHeads: 32, headDim: 128, vocabSize: 32000, dtype: "bf16" });
    // The same figures as llama-2-7b, so the same memory (apart from the rounded parameter count).
    expect(inferenceRequirement(p).totalGpuMemoryGiB).toBeCloseTo(
      inferenceRequirement(mustGetPreset("llama-2-7b")).totalGpuMemoryGiB,
      1,
    );
  });

  it("rejects figures that do not add up", () => {
    expect(
      userError(() =>
        customPreset({ parameters: 7e9, layers: 32, hiddenSize: 4096, attentionHeads: 32, kvHeads: 5 }),
      ),
    ).toBe("the model figures do not add up: kvHeads (5) must divide attentionHeads (32).");
    expect(
      userError(() => customPreset({ parameters: 7e9, layers: 32, hiddenSize: 4096, attentionHeads: 48 })),
    ).toMatch(/headDim must be a positive integer/);
  });
});
