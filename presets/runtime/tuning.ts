import { UserError } from "../../lib/errors.ts";
import { GPUS_PER_NODE } from "../memory/parallel.ts";
import { tuningRequirement, type TuningOptions } from "../requirements.ts";
import type { Preset, TuningMethod } from "../types.ts";
import {
  DEFAULT_TUNING_CONFIGMAP,
  PHI3_TARGET_MODULES,
  TEMPLATE_OUTPUT_DIR,
  TRAINER,
  TRAINING_CONFIG_FILE,
  TRAINING_CONFIG_KEY,
} from "./contract.ts";
import type { EnvVar, TuningRuntimeSpec } from "./spec.ts";

export interface TuningRuntimeOptions extends TuningOptions {
  /** GPUs the Job's pod gets. Default 1. */
  gpus?: number;
  /**
   * Memory of each of those GPUs. When one copy of the training state does not fit one GPU, a
   * single process spreads the layers over all of them; otherwise each GPU trains its own
   * data-parallel copy. Unknown means data parallel.
   */
  gpuMemoryGiB?: number;
  /** Image holding the weights: required for presets without a public image. */
  image?: string;
  /**
   * Where the trainer writes: the output_dir of the config it will read (contract.ts
   * resolveOutputDir). Default: the default config's.
   */
  outputDir?: string;
}

/** The main container of a fine-tuning Job for `preset` with `method`. */
export function tuningRuntime(
  preset: Preset,
  method: TuningMethod,
  options: TuningRuntimeOptions = {},
): TuningRuntimeSpec {
  if (!preset.tuning.includes(method)) {
    throw new UserError(
      preset.tuning.length === 0
        ? `preset "${preset.name}" does not support tuning; pick a base model such as phi-3-mini-4k-instruct or mistral-7b.`
        : `preset "${preset.name}" supports ${preset.tuning.join(" and ")} tuning, not ${method}; set tuning.method accordingly.`,
    );
  }
  const gpus = options.gpus ?? 1;
  if (!Number.isSafeInteger(gpus) || gpus < 1 || gpus > GPUS_PER_NODE) {
    throw new UserError(`gpus must be a whole number from 1 to ${GPUS_PER_NODE}, got ${gpus}.`);
  }
  const fitsOneGpu =
    options.gpuMemoryGiB === undefined ||
    tuningRequirement(preset, method, options).totalGpuMemoryGiB <= options.gpuMemoryGiB;
  const processes = fitsOneGpu ? gpus : 1;
  const env: EnvVar[] = [
    // Expandable segments cut the fragmentation that the memory model's 10% reserve allows for.
    { name: "PYTORCH_CUDA_ALLOC_CONF", value: "expandable_segments:True" },
  ];
  if (preset.family === "phi" && preset.architecture === "Phi3ForCausalLM") {
    // Phi-3 names its projections differently from what PEFT guesses; KAITO sets the same list.
    env.push({
      name: "DEFAULT_TARGET_MODULES",
      value: PHI3_TARGET_MODULES,
    });
  }
  return {
    runtime: "transformers",
    image: tuningImage(preset, options.image),
    command: ["accelerate", "launch"],
    args: ["--num_processes", String(processes), TRAINER],
    env,
    ports: [],
    startupTimeoutSeconds: preset.readinessTimeoutMinutes * 60,
    gpus,
    sharedMemory: true,
    needsModelAccessToken: preset.weights.kind === "download" && preset.weights.gated,
    config: {
      key: TRAINING_CONFIG_KEY,
      path: TRAINING_CONFIG_FILE,
      defaultConfigMap: DEFAULT_TUNING_CONFIGMAP[method],
    },
    outputDir: options.outputDir ?? TEMPLATE_OUTPUT_DIR,
  };
}

function tuningImage(preset: Preset, override: string | undefined): string {
  if (override) return override;
  switch (preset.weights.kind) {
    case "image":
      return preset.weights.image;
    case "download":
      return preset.baseImage;
    case "private":
      throw new UserError(
        `"${preset.name}" has no public image (its licence forbids one); build one with the weights and set tuning.preset.presetOptions.image.`,
      );
  }
}
