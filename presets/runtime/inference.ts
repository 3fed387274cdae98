import { UserError } from "../../lib/errors.ts";
import { GPUS_PER_NODE, parallelLayout } from "../memory/parallel.ts";
import { VLLM_GPU_MEMORY_UTILIZATION } from "../memory/inference.ts";
import { resolveServingOptions, type ResolvedServingOptions, type ServingOptions } from "../requirements.ts";
import type { Preset } from "../types.ts";
import { flagArgs, HEALTH_PATH, INFERENCE_PORT, type RuntimeSpec } from "./spec.ts";

export interface InferenceRuntimeOptions extends ServingOptions {
  /** GPUs the replica's pod gets: a power of two up to 8. Default 1. */
  gpus?: number;
  /**
   * Image holding the weights: required for presets whose licence rules out a public image
   * (Llama 2), an override for the rest.
   */
  image?: string;
}

// Where KAITO's preset images keep the weights, and where downloaded weights go.
const VLLM_WEIGHTS = "/workspace/vllm/weights";
const TRANSFORMERS_WEIGHTS = "/workspace/tfs/weights";
const DOWNLOAD_DIR = "/workspace/weights";
const VLLM_SERVER = "/workspace/vllm/inference_api.py";
const TRANSFORMERS_SERVER = "/workspace/tfs/inference_api.py";

const TORCH_DTYPE = { bf16: "bfloat16", fp16: "float16" } as const;

/** The main container of an inference pod for `preset`: image, command, flags, ports, probe. */
export function inferenceRuntime(preset: Preset, options: InferenceRuntimeOptions = {}): RuntimeSpec {
  const settings = resolveServingOptions(preset, options);
  const gpus = options.gpus ?? 1;
  if (!Number.isSafeInteger(gpus) || gpus < 1 || gpus > GPUS_PER_NODE || (gpus & (gpus - 1)) !== 0) {
    throw new UserError(`gpus must be 1, 2, 4 or 8 (one node's worth), got ${gpus}.`);
  }
  if (gpus > 1 && settings.runtime === "vllm" && !preset.tensorParallel) {
    throw new UserError(
      `"${preset.name}" cannot be split over GPUs (${preset.figures.attentionHeads} attention heads); give each replica 1 GPU.`,
    );
  }
  const source = weightsLocation(preset, options.image);
  const args =
    settings.runtime === "vllm"
      ? vllmArgs(preset, settings, gpus, source)
      : transformersArgs(preset, settings, source);
  return {
    runtime: settings.runtime,
    image: source.image,
    command: settings.runtime === "vllm" ? ["python3", VLLM_SERVER] : ["accelerate", "launch"],
    args,
    env: [],
    ports: [{ name: "http", containerPort: INFERENCE_PORT }],
    readinessProbe: { path: HEALTH_PATH, port: INFERENCE_PORT, periodSeconds: 10 },
    startupTimeoutSeconds: preset.readinessTimeoutMinutes * 60,
    gpus,
    sharedMemory: true,
    needsModelAccessToken: preset.weights.kind === "download" && preset.weights.gated,
  };
}

interface WeightsLocation {
  image: string;
  /** Hugging Face repository and revision to download, or undefined when the image holds the weights. */
  download?: { repo: string; revision?: string };
}

function weightsLocation(preset: Preset, override: string | undefined): WeightsLocation {
  switch (preset.weights.kind) {
    case "image":
      return { image: override ?? preset.weights.image };
    case "download":
      return { image: override ?? preset.baseImage, download: preset.huggingFace };
    case "private":
      if (!override) {
        throw new UserError(
          `"${preset.name}" has no public image (its licence forbids one); build one with the weights and set inference.preset.presetOptions.image.`,
        );
      }
      return { image: override };
  }
}

function vllmArgs(
  preset: Preset,
  s: ResolvedServingOptions,
  gpus: number,
  source: WeightsLocation,
): string[] {
  const layout = parallelLayout(preset.figures, gpus);
  const flags: Record<string, string> = {
    "served-model-name": preset.name,
    dtype: TORCH_DTYPE[preset.figures.dtype],
    "max-model-len": String(s.contextLength),
    "gpu-memory-utilization": String(VLLM_GPU_MEMORY_UTILIZATION),
    "tensor-parallel-size": String(layout.tensor),
    port: String(INFERENCE_PORT),
  };
  if (s.dtype === "bf16" || s.dtype === "fp16") flags.dtype = TORCH_DTYPE[s.dtype];
  if (layout.pipeline > 1) flags["pipeline-parallel-size"] = String(layout.pipeline);
  // int8 as fp8 weights (Ada/Hopper natively, Ampere through weight-only kernels); int4 as
  // bitsandbytes 4-bit quantization while loading.
  if (s.dtype === "int8") flags.quantization = "fp8";
  if (s.dtype === "int4")
    Object.assign(flags, { quantization: "bitsandbytes", "load-format": "bitsandbytes" });
  const model: Record<string, string> = { model: VLLM_WEIGHTS };
  if (source.download) {
    Object.assign(model, { model: source.download.repo, "download-dir": DOWNLOAD_DIR });
    if (source.download.revision) model.revision = source.download.revision;
  }
  return flagArgs({ ...preset.vllmArgs, ...model, ...flags });
}

function transformersArgs(preset: Preset, s: ResolvedServingOptions, source: WeightsLocation): string[] {
  // One process that spreads the layers over every GPU it sees (accelerate's big-model dispatch).
  const launcher = ["--num_processes", "1", "--num_machines", "1", "--machine_rank", "0", "--gpu_ids", "all"];
  const flags: Record<string, string> = {
    pipeline: "text-generation",
    served_model_name: preset.name,
    torch_dtype: TORCH_DTYPE[s.dtype === "bf16" || s.dtype === "fp16" ? s.dtype : preset.figures.dtype],
    pretrained_model_name_or_path: TRANSFORMERS_WEIGHTS,
  };
  if (s.dtype === "int8") flags.load_in_8bit = "";
  if (s.dtype === "int4") flags.load_in_4bit = "";
  if (source.download) {
    Object.assign(flags, { pretrained_model_name_or_path: source.download.repo, allow_remote_files: "" });
    if (source.download.revision) flags.revision = source.download.revision;
  }
  return [...launcher, TRANSFORMERS_SERVER, ...flagArgs({ ...preset.transformersArgs, ...flags })];
}
