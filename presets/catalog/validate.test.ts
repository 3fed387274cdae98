import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { parseCatalog } from "./load.ts";
import { CatalogError, isCatalogError } from "./validate.ts";

// A real entry (Mistral 7B v0.3) that each case below breaks in one way.
function entry(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "mistral-7b",
    family: "mistral",
    huggingFace: "mistralai/Mistral-7B-v0.3@d8cadc02ac76bd617a919d50b092e59d2d110aff",
    architecture: "MistralForCausalLM",
    parameters: 7248023552,
    layers: 32,
    hiddenSize: 4096,
    attentionHeads: 32,
    kvHeads: 8,
    headDim: 128,
    vocabSize: 32768,
    maxContext: 32768,
    dtype: "bf16",
    weights: { image: "kaito-mistral-7b:0.1.1" },
    tuning: ["lora", "qlora"],
    ...overrides,
  };
}

function catalog(...presets: Record<string, unknown>[]): string {
  return stringify({ registry: "mcr.microsoft.com/aks/kaito", baseImage: "kaito-base:0.0.2", presets });
}

function problemsOf(text: string): readonly string[] {
  try {
    parseCatalog(text, "test.yaml");
  } catch (e) {
    if (isCatalogError(e)) return e.problems;
    throw e;
  }
  throw new Error("expected the catalogue to be rejected");
}

describe("catalogue validation", () => {
  it("accepts a valid entry and fills in defaults and full image references", () => {
    const c = parseCatalog(catalog(entry()), "test.yaml");
    expect(c.baseImage).toBe("mcr.microsoft.com/aks/kaito/kaito-base:0.0.2");
    const [p] = c.presets;
    expect(p).toMatchObject({
      name: "mistral-7b",
      huggingFace: {
        repo: "mistralai/Mistral-7B-v0.3",
        revision: "d8cadc02ac76bd617a919d50b092e59d2d110aff",
      },
      weights: { kind: "image", image: "mcr.microsoft.com/aks/kaito/kaito-mistral-7b:0.1.1" },
      baseImage: "mcr.microsoft.com/aks/kaito/kaito-base:0.0.2",
      runtimes: ["vllm", "transformers"],
      tensorParallel: true,
      multiNode: false,
      adapters: true,
      readinessTimeoutMinutes: 30,
    });
    expect(p!.figures.tiedEmbeddings).toBe(false);
  });

  it("gives a preset that names its own base image that one, and Hub models the catalogue's hubBaseImage", () => {
    const doc = (extra: Record<string, unknown>) =>
      stringify({
        registry: "mcr.microsoft.com/aks/kaito",
        baseImage: "kaito-base:0.0.2",
        ...extra,
        presets: [
          entry(),
          entry({ name: "newer", weights: { download: true, gated: false }, baseImage: "kaito-base:0.4.2" }),
        ],
      });
    const c = parseCatalog(doc({ hubBaseImage: "kaito-base:0.4.2" }), "test.yaml");
    expect(c.presets.map((p) => p.baseImage)).toEqual([
      "mcr.microsoft.com/aks/kaito/kaito-base:0.0.2",
      "mcr.microsoft.com/aks/kaito/kaito-base:0.4.2",
    ]);
    expect(c.hubBaseImage).toBe("mcr.microsoft.com/aks/kaito/kaito-base:0.4.2");
    // Without hubBaseImage, Hub models get the catalogue's base image.
    expect(parseCatalog(doc({}), "test.yaml").hubBaseImage).toBe(
      "mcr.microsoft.com/aks/kaito/kaito-base:0.0.2",
    );
    expect(problemsOf(catalog(entry({ baseImage: "kaito-base" })))).toEqual([
      'presets[0] (mistral-7b): baseImage must be name:tag, got "kaito-base"',
    ]);
    expect(problemsOf(doc({ hubBaseImage: 7 }))).toEqual(["hubBaseImage must be name:tag, got 7"]);
  });

  it("rejects duplicate names, pointing at the first definition", () => {
    const problems = problemsOf(catalog(entry(), entry({ family: "other" })));
    expect(problems).toEqual([
      'presets[1] (mistral-7b): duplicate name "mistral-7b", first defined at presets[0]',
    ]);
  });

  it("rejects figures that are not positive integers", () => {
    const problems = problemsOf(catalog(entry({ layers: -32, headDim: 127.5 })));
    expect(problems).toContain("presets[0] (mistral-7b): layers must be a positive integer, got -32");
    expect(problems).toContain("presets[0] (mistral-7b): headDim must be a positive integer, got 127.5");
  });

  it("rejects KV heads that do not divide the attention heads", () => {
    expect(problemsOf(catalog(entry({ kvHeads: 5 })))).toEqual([
      "presets[0] (mistral-7b): kvHeads (5) must divide attentionHeads (32)",
    ]);
  });

  it("catches a parameter count off by orders of magnitude in either direction", () => {
    expect(problemsOf(catalog(entry({ parameters: 7.2e6 })))[0]).toMatch(
      /parameters \(7\.200e\+6\) is below/,
    );
    expect(problemsOf(catalog(entry({ parameters: 7.2e12 })))[0]).toMatch(
      /parameters \(7\.200e\+12\) is above/,
    );
  });

  it("catches a head dimension inconsistent with the hidden size", () => {
    expect(problemsOf(catalog(entry({ headDim: 12 })))[0]).toMatch(
      /attentionHeads x headDim \(384\) is far from hiddenSize/,
    );
  });

  it("rejects unknown fields, so a misspelt one cannot silently take its default", () => {
    expect(problemsOf(catalog(entry({ tiedEmbedding: true })))).toEqual([
      'presets[0] (mistral-7b): unknown field "tiedEmbedding"',
    ]);
  });

  it("rejects malformed names, dtypes, weights, runtimes and tuning methods", () => {
    const problems = problemsOf(
      catalog(
        entry({
          name: "Mistral_7B",
          dtype: "fp32",
          weights: { image: "kaito-mistral-7b" },
          runtimes: ["tgi"],
          tuning: ["full"],
        }),
      ),
    );
    expect(problems.join("\n")).toMatch(/name must be a lowercase DNS label/);
    expect(problems.join("\n")).toMatch(/dtype must be bf16 or fp16, got "fp32"/);
    expect(problems.join("\n")).toMatch(/weights must be one of/);
    expect(problems.join("\n")).toMatch(/runtimes must be a list drawn from vllm, transformers/);
    expect(problems.join("\n")).toMatch(/tuning must be a list drawn from lora, qlora/);
  });

  it("refuses preset flags that the serving options own", () => {
    expect(problemsOf(catalog(entry({ vllmArgs: { "max-model-len": "8192" } })))).toEqual([
      'presets[0] (mistral-7b): vllmArgs: "max-model-len" is set from the serving options and cannot be fixed per preset',
    ]);
  });

  it("refuses multi-node replicas for a model that cannot be split", () => {
    expect(problemsOf(catalog(entry({ tensorParallel: false, multiNode: true })))[0]).toMatch(
      /multiNode needs tensorParallel/,
    );
  });

  it("reports every fault at once, each with its source in the message", () => {
    try {
      parseCatalog(catalog(entry({ layers: 0 }), entry({ name: "b", kvHeads: 3 })), "test.yaml");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CatalogError);
      const err = e as CatalogError;
      expect(err.problems).toHaveLength(2);
      expect(err.message).toMatch(/^invalid preset catalogue test\.yaml:\n {2}- presets\[0\]/);
    }
  });

  it("rejects YAML with repeated keys and documents that are not a catalogue", () => {
    expect(problemsOf("registry: a\nregistry: b\n")[0]).toMatch(/not valid YAML/);
    expect(problemsOf("- just\n- a list\n")[0]).toMatch(/must be a mapping/);
    expect(problemsOf(stringify({ registry: "r", baseImage: "b:1", presets: [] }))).toContain(
      "presets must be a non-empty list",
    );
  });
});
