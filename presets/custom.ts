import { UserError } from "../lib/errors.ts";
import { figureProblems } from "./figures.ts";
import { RUNTIMES, TUNING_METHODS, type ModelFigures, type NativeDtype, type Preset } from "./types.ts";

/** Figures a user gives for a model outside the catalogue; the rest get common defaults. */
export interface CustomModelFigures {
  readonly parameters: number;
  readonly layers: number;
  readonly hiddenSize: number;
  readonly attentionHeads: number;
  /** Defaults to attentionHeads (multi-head attention). */
  readonly kvHeads?: number;
  /** Defaults to hiddenSize / attentionHeads. */
  readonly headDim?: number;
  /** Defaults to 32000, the Llama 2 and Mistral v0.1 vocabulary. */
  readonly vocabSize?: number;
  /** Defaults to 131072 so that no reasonable context is refused. */
  readonly maxContext?: number;
  readonly dtype?: NativeDtype;
  readonly tiedEmbeddings?: boolean;
}

const CUSTOM_BASE_IMAGE = "mcr.microsoft.com/aks/kaito/kaito-base:0.0.2";

/**
 * A preset for a model given by its figures, so the estimate and the pod builders treat it like
 * a catalogue entry. Inconsistent figures are a UserError naming the first fault.
 */
export function customPreset(input: CustomModelFigures, name = "custom"): Preset {
  const figures: ModelFigures = {
    parameters: input.parameters,
    layers: input.layers,
    hiddenSize: input.hiddenSize,
    attentionHeads: input.attentionHeads,
    kvHeads: input.kvHeads ?? input.attentionHeads,
    headDim: input.headDim ?? input.hiddenSize / input.attentionHeads,
    vocabSize: input.vocabSize ?? 32000,
    maxContext: input.maxContext ?? 131072,
    dtype: input.dtype ?? "bf16",
    tiedEmbeddings: input.tiedEmbeddings ?? false,
  };
  const problems = figureProblems(figures, false);
  if (problems.length > 0) throw new UserError(`the model figures do not add up: ${problems[0]}.`);
  return {
    name,
    family: "custom",
    huggingFace: { repo: name },
    architecture: "Custom",
    figures,
    weights: { kind: "download", gated: false },
    baseImage: CUSTOM_BASE_IMAGE,
    runtimes: RUNTIMES,
    tensorParallel: true,
    multiNode: false,
    adapters: true,
    vllmArgs: {},
    transformersArgs: {},
    tuning: TUNING_METHODS,
    readinessTimeoutMinutes: 30,
  };
}
