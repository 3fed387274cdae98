import { describe, expect, it } from "vitest";
import { isUserError } from "../lib/errors.ts";
import { getPreset, listPresets, mustGetPreset } from "./index.ts";

// The presets the project promises (the list), plus phi-4-mini-instruct, which KAITO also ships.
const REQUIRED = [
  "falcon-7b",
  "falcon-7b-instruct",
  "falcon-40b",
  "falcon-40b-instruct",
  "mistral-7b",
  "mistral-7b-instruct",
  "phi-2",
  "phi-3-mini-4k-instruct",
  "phi-3-mini-128k-instruct",
  "phi-3-medium-4k-instruct",
  "phi-3-medium-128k-instruct",
  "phi-3.5-mini-instruct",
  "phi-4",
  "llama-2-7b",
  "llama-2-7b-chat",
  "llama-2-13b",
  "llama-2-13b-chat",
  "llama-2-70b",
  "llama-2-70b-chat",
  "llama-3.1-8b-instruct",
  "llama-3.3-70b-instruct",
  "qwen2.5-coder-7b-instruct",
  "qwen2.5-coder-32b-instruct",
  "deepseek-r1-distill-llama-8b",
  "deepseek-r1-distill-qwen-14b",
];

describe("the embedded catalogue", () => {
  it("holds every promised preset", () => {
    const names = listPresets().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(REQUIRED));
    expect(new Set(names).size).toBe(names.length);
  });

  it("gives each model the figures of its Hugging Face config", () => {
    // Spot checks against config.json at the pinned revisions.
    expect(mustGetPreset("llama-3.3-70b-instruct").figures).toMatchObject({
      layers: 80,
      hiddenSize: 8192,
      attentionHeads: 64,
      kvHeads: 8,
      headDim: 128,
      vocabSize: 128256,
      maxContext: 131072,
    });
    expect(mustGetPreset("falcon-7b").figures).toMatchObject({
      attentionHeads: 71,
      kvHeads: 1,
      headDim: 64,
      tiedEmbeddings: true,
    });
    expect(mustGetPreset("phi-2").figures).toMatchObject({ dtype: "fp16", headDim: 80, maxContext: 2048 });
  });

  it("offers tuning only on base models, as KAITO does", () => {
    const tunable = listPresets()
      .filter((p) => p.tuning.length > 0)
      .map((p) => p.name);
    expect(tunable).toContain("falcon-7b");
    expect(tunable).not.toContain("falcon-7b-instruct");
    expect(tunable).not.toContain("llama-3.1-8b-instruct");
  });

  it("returns the same objects on every call, loading once", () => {
    expect(listPresets()).toBe(listPresets());
  });
});

describe("preset lookup", () => {
  it("finds presets case-insensitively and returns undefined for unknown names", () => {
    expect(getPreset("Phi-2")?.name).toBe("phi-2");
    expect(getPreset(" phi-2 ")?.name).toBe("phi-2");
    expect(getPreset("gpt-5")).toBeUndefined();
  });

  it("throws a user error naming the unknown preset and suggesting close names", () => {
    try {
      mustGetPreset("lama-3.1-8b-instruct");
      expect.unreachable();
    } catch (e) {
      expect(isUserError(e)).toBe(true);
      expect((e as Error).message).toBe(
        'unknown preset "lama-3.1-8b-instruct"; did you mean "llama-3.1-8b-instruct"?',
      );
    }
    expect(() => mustGetPreset("mistral")).toThrow(
      /did you mean "mistral-7b" or "mistral-7b-instruct" or "mistral-large-3-675b-instruct"\?/,
    );
  });

  it("points at the listing when nothing is close", () => {
    expect(() => mustGetPreset("stable-diffusion-xl")).toThrow(
      /unknown preset "stable-diffusion-xl"; run `npm run kaito -- presets`/,
    );
  });
});
