import { UserError } from "../../lib/errors.ts";
import { GPUS_PER_NODE, parallelLayout, type ParallelLayout } from "../memory/parallel.ts";
import { VLLM_GPU_MEMORY_UTILIZATION } from "../memory/inference.ts";
import { resolveServingOptions, type ResolvedServingOptions, type ServingOptions } from "../requirements.ts";
import type { ModelShape } from "../memory/weights.ts";
import type { Preset } from "../types.ts";
import { launchEnv, multiNodeCommand } from "./multinode.ts";
import {
  DISTRIBUTED_PORT,
  DISTRIBUTED_PORT_NAME,
  flagArgs,
  HEALTH_PATH,
  INFERENCE_PORT,
  type ContainerPort,
  type RuntimeSpec,
} from "./spec.ts";

export interface InferenceRuntimeOptions extends ServingOptions {
  /** GPUs the replica's pod gets: a power of two up to 8. Default 1. */
  gpus?: number;
  /**
   * Nodes one replica spans, one pod of `gpus` GPUs on each. Default 1; more makes the pods of a
   * replica one distributed group (multinode.ts), the leader serving HTTP.
   */
  nodes?: number;
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
  const nodes = options.nodes ?? 1;
  if (!Number.isSafeInteger(gpus) || gpus < 1 || gpus > GPUS_PER_NODE || (gpus & (gpus - 1)) !== 0) {
    throw new UserError(`gpus must be 1, 2, 4 or 8 (one node's worth), got ${gpus}.`);
  }
  if (!Number.isSafeInteger(nodes) || nodes < 1) {
    throw new UserError(`nodes must be a whole number of at least 1, got ${nodes}.`);
  }
  if (gpus * nodes > 1 && settings.runtime === "vllm" && !preset.tensorParallel) {
    throw new UserError(
      `"${preset.name}" cannot be split over GPUs (${preset.figures.attentionHeads} attention heads); give each replica 1 GPU.`,
    );
  }
  const source = weightsLocation(preset, options.image);
  const multiNode = nodes > 1;
  let command: string[];
  let args: string[];
  if (settings.runtime === "vllm") {
    const server = vllmArgs(preset, settings, gpus, nodes, source);
    // The multi-node wrapper runs its args as the server once the group has formed.
    command = multiNode ? multiNodeCommand("vllm", gpus) : ["python3", VLLM_SERVER];
    args = multiNode ? ["python3", VLLM_SERVER, ...server] : server;
  } else {
    command = multiNode ? multiNodeCommand("transformers", gpus) : ["accelerate", "launch"];
    args = transformersArgs(preset, settings, nodes, source);
  }
  const ports: ContainerPort[] = [{ name: "http", containerPort: INFERENCE_PORT }];
  if (multiNode) ports.push({ name: DISTRIBUTED_PORT_NAME, containerPort: DISTRIBUTED_PORT });
  return {
    runtime: settings.runtime,
    image: source.image,
    command,
    args,
    env: multiNode ? [{ name: launchEnv.nodes, value: String(nodes) }] : [],
    ports,
    readinessProbe: { path: HEALTH_PATH, port: INFERENCE_PORT, periodSeconds: 10 },
    startupTimeoutSeconds: preset.readinessTimeoutMinutes * 60,
    gpus,
    sharedMemory: true,
    needsModelAccessToken: preset.weights.kind === "download" && preset.weights.gated,
  };
}

/**
 * How vLLM splits a replica of `gpusPerNode` GPUs on each of `nodes` nodes. Tensor parallelism
 * exchanges activations on every layer, so it stays inside a node (NVLink); the nodes become
 * pipeline stages, which pass activations only at stage boundaries. On one node this is
 * parallelLayout itself. The memory model sizes a replica with parallelLayout over all its GPUs,
 * which may shard the KV cache fewer ways than this layout does (never more), so its figure
 * remains an upper bound for the multi-node layout.
 */
export function replicaLayout(model: ModelShape, gpusPerNode: number, nodes: number): ParallelLayout {
  const node = parallelLayout(model, gpusPerNode);
  return { tensor: node.tensor, pipeline: node.pipeline * nodes };
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
  nodes: number,
  source: WeightsLocation,
): string[] {
  const layout = replicaLayout(preset.figures, gpus, nodes);
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
  // Ray is how vLLM reaches GPUs in other pods; on one node its default multiprocessing suffices.
  if (nodes > 1) flags["distributed-executor-backend"] = "ray";
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

function transformersArgs(
  preset: Preset,
  s: ResolvedServingOptions,
  nodes: number,
  source: WeightsLocation,
): string[] {
  // One process per node that spreads the layers over every GPU it sees (accelerate's big-model
  // dispatch); --num_processes counts them over all nodes. Across nodes, the wrapper adds this
  // pod's --machine_rank and the leader's address.
  const launcher =
    nodes > 1
      ? [
          "--num_processes",
          String(nodes),
          "--num_machines",
          String(nodes),
          "--main_process_port",
          String(DISTRIBUTED_PORT),
        ]
      : ["--num_processes", "1", "--num_machines", "1", "--machine_rank", "0"];
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
  return [
    ...launcher,
    "--gpu_ids",
    "all",
    TRANSFORMERS_SERVER,
    ...flagArgs({ ...preset.transformersArgs, ...flags }),
  ];
}
