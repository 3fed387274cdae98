import { describe, expect, it } from "vitest";
import {
  gpusNeeded,
  inferenceMemory,
  kvBudgetGiB,
  perGpuNeedGiB,
  type InferenceMemoryInput,
} from "./inference.ts";
import { kvShards, parallelLayout, validTensorDegree } from "./parallel.ts";
import { GiB, kvBytesPerToken, weightBytes, type ModelShape } from "./weights.ts";

// A toy model with round numbers so every figure below can be checked by hand:
// 2^30 parameters (2 GiB in bf16) and 64 KiB of KV cache per token (2 x 16 x 8 x 128 x 2 bytes),
// so 16384 tokens of context are exactly 1 GiB.
const toy: ModelShape = {
  parameters: 2 ** 30,
  layers: 16,
  hiddenSize: 2048,
  attentionHeads: 16,
  kvHeads: 8,
  headDim: 128,
  vocabSize: 32000,
  tiedEmbeddings: false,
};

function input(overrides: Partial<InferenceMemoryInput> = {}): InferenceMemoryInput {
  return {
    model: toy,
    runtime: "vllm",
    dtype: "bf16",
    contextLength: 16384,
    concurrency: 1,
    shardable: true,
    ...overrides,
  };
}

describe("weights and KV cache", () => {
  it("counts 2 bytes per weight in 16-bit and 64 KiB of KV per token for the toy model", () => {
    expect(weightBytes(toy, "bf16")).toBe(2 * GiB);
    expect(weightBytes(toy, "fp16")).toBe(2 * GiB);
    expect(kvBytesPerToken(toy)).toBe(65536);
  });

  it("quantizes everything but the embedding table and output head", () => {
    const embedding = 2 * 32000 * 2048; // untied: input table and output head
    // int8: 1 byte for the 942,669,824 body weights, 2 for the 131,072,000 embedding weights.
    expect(weightBytes(toy, "int8")).toBe((2 ** 30 - embedding) * 1 + embedding * 2);
    // int4: 4.25 bits (4-bit values, a 16-bit scale and zero per group of 128).
    expect(weightBytes(toy, "int4")).toBe(762_937_344);
    // A tied model has one table to keep.
    expect(weightBytes({ ...toy, tiedEmbeddings: true }, "int8")).toBe(2 ** 30 - embedding / 2 + embedding);
  });
});

describe("vLLM replica memory", () => {
  it("adds weights, KV cache, 5% activations and 2.3 GiB runtime, then leaves 10% unused", () => {
    const m = inferenceMemory(input());
    expect(m).toMatchObject({ weightsGiB: 2, kvCacheGiB: 1, activationsGiB: 0.1, runtimeGiB: 2.3 });
    // (2 + 1 + 0.1 + 2.3) / 0.9 = 6.0
    expect(m.totalGpuMemoryGiB).toBe(6);
    expect(m.reserveGiB).toBe(0.6);
    // Each further GPU repeats the 2.3 GiB runtime: 2.3 / 0.9 = 2.556, reported rounded up.
    expect(m.perGpuFixedGiB).toBe(2.56);
  });

  it("takes the minimum per-GPU memory from an 8-way split", () => {
    // (2.1 / 8 + 1 / 8 + 2.3) / 0.9 = 2.986
    expect(inferenceMemory(input()).minGpuMemoryGiB).toBe(2.99);
    expect(inferenceMemory(input()).maxGpusPerReplica).toBe(8);
  });

  it("scales the KV cache with context and concurrency", () => {
    expect(inferenceMemory(input({ contextLength: 8192, concurrency: 4 })).kvCacheGiB).toBe(2);
    // (2 + 2 + 0.1 + 2.3) / 0.9 = 7.111
    expect(inferenceMemory(input({ contextLength: 8192, concurrency: 4 })).totalGpuMemoryGiB).toBe(7.12);
  });

  it("keeps an unsplittable model whole: its minimum per GPU is its total", () => {
    const m = inferenceMemory(input({ shardable: false }));
    expect(m.minGpuMemoryGiB).toBe(m.totalGpuMemoryGiB);
    expect(m.maxGpusPerReplica).toBe(1);
    expect(gpusNeeded(input({ shardable: false }), 5)).toBeUndefined();
    expect(gpusNeeded(input({ shardable: false }), 6)).toBe(1);
  });

  it("counts GPUs exactly, repeating the runtime on every GPU", () => {
    // The planner's k x m >= total would say 2 GPUs of 4 GiB hold 6 GiB, but each GPU then
    // needs (2.1 / 2 + 1 / 2 + 2.3) / 0.9 = 4.28 GiB; 4 GPUs need 3.42 GiB each.
    expect(perGpuNeedGiB(input(), 2)).toBeCloseTo(4.278, 3);
    expect(gpusNeeded(input(), 4)).toBe(4);
    expect(gpusNeeded(input(), 6)).toBe(1);
    expect(gpusNeeded(input(), 2.9)).toBeUndefined();
    // More GPUs than one node when the caller allows pipeline stages across nodes.
    expect(gpusNeeded(input(), 2.9, 16)).toBe(16);
  });

  it("leaves exactly the KV cache as room when the GPU is the replica's total", () => {
    expect(kvBudgetGiB(input(), 6, 1)).toBeCloseTo(1, 9);
    expect(kvBudgetGiB(input(), 4, 1)).toBeLessThan(0);
  });
});

describe("transformers replica memory", () => {
  it("adds prefill activations and 1 GiB runtime per GPU, plus 10% fragmentation", () => {
    const m = inferenceMemory(input({ runtime: "transformers" }));
    // Prefill: 16384 tokens x 2048 hidden x 32 bytes = 1 GiB.
    expect(m.activationsGiB).toBe(1);
    // (2 + 1 + 1 + 1) x 1.1 = 5.5
    expect(m.totalGpuMemoryGiB).toBe(5.5);
    // Layers spread over 8 GPUs; activations and runtime stay whole: (3 / 8 + 2) x 1.1 = 2.6125.
    expect(m.minGpuMemoryGiB).toBe(2.62);
    expect(m.perGpuFixedGiB).toBe(2.2);
  });

  it("splits any model by layers, even one vLLM cannot shard", () => {
    expect(inferenceMemory(input({ runtime: "transformers", shardable: false })).maxGpusPerReplica).toBe(8);
  });
});

describe("parallel layout", () => {
  it("uses as much tensor parallelism as the heads allow and pipelines the rest", () => {
    const shape = (attentionHeads: number, kvHeads: number): ModelShape => ({
      ...toy,
      attentionHeads,
      kvHeads,
    });
    expect(parallelLayout(shape(32, 8), 8)).toEqual({ tensor: 8, pipeline: 1 });
    expect(parallelLayout(shape(40, 10), 8)).toEqual({ tensor: 2, pipeline: 4 }); // phi-3-medium
    expect(parallelLayout(shape(28, 4), 8)).toEqual({ tensor: 4, pipeline: 2 }); // qwen2.5-coder-7b
    expect(parallelLayout(shape(71, 1), 4)).toEqual({ tensor: 1, pipeline: 4 }); // falcon-7b
    expect(validTensorDegree(shape(16, 2), 8)).toBe(true); // each KV head replicated 4 times
  });

  it("divides the KV cache only as far as there are KV heads to split", () => {
    const gqa: ModelShape = { ...toy, kvHeads: 2 };
    expect(kvShards(gqa, parallelLayout(gqa, 8))).toBe(2);
    expect(kvShards(toy, parallelLayout(toy, 8))).toBe(8);
    // 2 KV heads make a 0.25 GiB cache; over 8 GPUs each keeps half of it, not an eighth.
    expect(perGpuNeedGiB({ ...input(), model: gqa }, 8)).toBeCloseTo((2.1 / 8 + 0.25 / 2 + 2.3) / 0.9, 9);
  });
});
