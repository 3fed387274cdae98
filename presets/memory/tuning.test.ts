import { describe, expect, it } from "vitest";
import { loraParameters, tuningMemory, tuningPerGpuNeedGiB, type TuningMemoryInput } from "./tuning.ts";
import type { ModelShape } from "./weights.ts";

// The same round-number toy as inference.test.ts: 2^30 parameters, 16 layers, hidden 2048.
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

function input(overrides: Partial<TuningMemoryInput> = {}): TuningMemoryInput {
  return {
    model: toy,
    method: "lora",
    sequenceLength: 1024,
    batchSize: 1,
    loraRank: 8,
    gradientCheckpointing: false,
    ...overrides,
  };
}

describe("LoRA memory", () => {
  it("counts rank x (in + out) adapter weights on q, k, v and o", () => {
    // Per layer 8 x (4 x 2048 + 2 x 16 x 128 + 2 x 8 x 128) = 114,688; 16 layers.
    expect(loraParameters(toy, 8)).toBe(1_835_008);
  });

  it("adds frozen bf16 weights, adapter state, activations and runtime, plus 10%", () => {
    const m = tuningMemory(input());
    expect(m.weightsGiB).toBe(2);
    // 1,835,008 x 16 bytes = 0.0273 GiB
    expect(m.adaptersGiB).toBe(0.03);
    // 16 layers x 34 x 1024 x 2048 bytes = 1.0625 GiB, loss 1024 x 32000 x 8 bytes = 0.2441 GiB
    expect(m.activationsGiB).toBe(1.31);
    // (2 + 0.0273 + 1.3066 + 1) x 1.1 = 4.767
    expect(m.totalGpuMemoryGiB).toBe(4.77);
    expect(m.trainableParameters).toBe(1_835_008);
  });

  it("spreads the layers, not the loss or runtime, over the GPUs for the minimum", () => {
    // ((2 + 0.0273 + 1.0625) / 8 + 0.2441 + 1) x 1.1 = 1.793
    expect(tuningMemory(input()).minGpuMemoryGiB).toBe(1.8);
    expect(tuningPerGpuNeedGiB(input(), 1)).toBeCloseTo(4.7674, 3);
  });

  it("keeps only each layer's input under gradient checkpointing", () => {
    // 16 x 1024 x 2048 x 2 + 34 x 1024 x 2048 bytes = 0.1289 GiB, plus the 0.2441 GiB loss.
    expect(tuningMemory(input({ gradientCheckpointing: true })).activationsGiB).toBe(0.38);
  });

  it("grows activations with sequence length and batch size", () => {
    const base = tuningMemory(input()).activationsGiB;
    expect(tuningMemory(input({ sequenceLength: 2048 })).activationsGiB).toBeCloseTo(2 * base, 1);
    expect(tuningMemory(input({ batchSize: 2 })).activationsGiB).toBeCloseTo(2 * base, 1);
  });
});

describe("QLoRA memory", () => {
  it("stores the body in 4.127-bit NF4, keeps embeddings in bf16 and dequantizes one projection", () => {
    // Body 942,669,824 x 4.127 / 8 + embeddings 131,072,000 x 2 + a quarter layer (58,916,864) x 2 bytes.
    expect(tuningMemory(input({ method: "qlora" })).weightsGiB).toBe(0.73);
    expect(tuningMemory(input({ method: "qlora" })).totalGpuMemoryGiB).toBeLessThan(
      tuningMemory(input()).totalGpuMemoryGiB,
    );
  });
});
