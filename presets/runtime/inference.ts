import { UserError } from "../../lib/errors.ts";
import { GPUS_PER_NODE, parallelLayout, type ParallelLayout } from "../memory/parallel.ts";
import { VLLM_GPU_MEMORY_UTILIZATION } from "../memory/inference.ts";
import {
  kvCapacityTokens,
  resolveServingOptions,
  type ResolvedServingOptions,
  type ServingOptions,
} from "../requirements.ts";
import type { ModelShape } from "../memory/weights.ts";
import type { NativeDtype, Preset } from "../types.ts";
import {
  adapterStrengthEnv,
  CONFIG_FILE_FLAG,
  DEFAULT_INFERENCE_CONFIGMAP,
  DOWNLOAD_DIR,
  formatUtilization,
  HEALTH_PATH,
  INFERENCE_CONFIG_FILE,
  INFERENCE_CONFIG_KEY,
  INFERENCE_PORT,
  PROBES,
  servingTorchDtype,
  TRANSFORMERS_SERVER,
  TRANSFORMERS_WEIGHTS,
  VLLM_ENABLE_LORA_FLAG,
  VLLM_SERVER,
  VLLM_WEIGHTS,
  vllmGpuMemoryUtilization,
} from "./contract.ts";
import { launchEnv, multiNodeCommand } from "./multinode.ts";
import {
  DISTRIBUTED_PORT,
  DISTRIBUTED_PORT_NAME,
  flagArgs,
  type ContainerPort,
  type EnvVar,
  type RuntimeSpec,
} from "./spec.ts";

/** The GPU each pod of the replica runs on, from the SKU catalogue; unknown for unlisted sizes. */
export interface GpuInfo {
  /** Memory of one GPU. */
  readonly memoryGiB: number;
  /** CUDA compute capability; undefined when the catalogue does not know it. */
  readonly computeCapability?: number;
}

/** An adapter the server loads from ADAPTERS_DIR/<name>. */
export interface AdapterRef {
  readonly name: string;
  /** A decimal string in [0, 1]. */
  readonly strength: string;
}

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
  /**
   * The GPU the pods get. It sets the dtype (float16 below compute capability 8.0), vLLM's
   * --gpu-memory-utilization and --max-model-len. Unknown: the model's dtype, 0.9, and no
   * --max-model-len, so KAITO's server searches for the longest context that fits.
   */
  gpu?: GpuInfo;
  /** Adapters the server loads (vLLM: full strength only). */
  adapters?: readonly AdapterRef[];
}

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
  const adapters = options.adapters ?? [];
  if (settings.runtime === "vllm") {
    if (adapters.length > 0 && !preset.adapters) {
      throw new UserError(
        `vLLM cannot serve LoRA adapters on "${preset.name}"; remove inference.adapters or set the annotation kaito.sh/runtime: transformers.`,
      );
    }
    const partial = adapters.find((a) => Number(a.strength) !== 1);
    if (partial) {
      throw new UserError(
        `vLLM applies adapters at full strength only, and adapter "${partial.name}" asks for ${partial.strength}; remove its strength or set the annotation kaito.sh/runtime: transformers.`,
      );
    }
    const server = vllmArgs(preset, settings, gpus, nodes, source, options);
    // The multi-node wrapper runs its args as the server once the group has formed.
    command = multiNode ? multiNodeCommand("vllm", gpus) : ["python3", VLLM_SERVER];
    args = multiNode ? ["python3", VLLM_SERVER, ...server] : server;
  } else {
    command = multiNode ? multiNodeCommand("transformers", gpus) : ["accelerate", "launch"];
    args = transformersArgs(preset, settings, nodes, source, options.gpu);
  }
  const ports: ContainerPort[] = [{ name: "http", containerPort: INFERENCE_PORT }];
  if (multiNode) ports.push({ name: DISTRIBUTED_PORT_NAME, containerPort: DISTRIBUTED_PORT });
  const env: EnvVar[] = multiNode ? [{ name: launchEnv.nodes, value: String(nodes) }] : [];
  // The transformers server merges every adapter it finds, each at the strength in its variable.
  if (settings.runtime === "transformers")
    env.push(...adapters.map((a) => adapterStrengthEnv(a.name, a.strength)));
  return {
    runtime: settings.runtime,
    image: source.image,
    command,
    args,
    env,
    ports,
    readinessProbe: { path: HEALTH_PATH, port: INFERENCE_PORT, ...PROBES.readiness },
    livenessProbe: { path: HEALTH_PATH, port: INFERENCE_PORT, ...PROBES.liveness },
    startupTimeoutSeconds: preset.readinessTimeoutMinutes * 60,
    gpus,
    sharedMemory: true,
    needsModelAccessToken: preset.weights.kind === "download" && preset.weights.gated,
    // Only KAITO's vLLM server reads a config file.
    ...(settings.runtime === "vllm"
      ? {
          config: {
            key: INFERENCE_CONFIG_KEY,
            path: INFERENCE_CONFIG_FILE,
            defaultConfigMap: DEFAULT_INFERENCE_CONFIGMAP,
          },
        }
      : {}),
  };
}

/** The dtype a 16-bit serving choice becomes on the GPU (int8/int4 load from the native weights). */
function torchDtype(preset: Preset, s: ResolvedServingOptions, gpu: GpuInfo | undefined) {
  const native: NativeDtype = s.dtype === "bf16" || s.dtype === "fp16" ? s.dtype : preset.figures.dtype;
  return servingTorchDtype(native, gpu?.computeCapability);
}

/**
 * The longest context vLLM gets: what the model accepts, capped by the KV cache the replica's
 * GPUs hold at the utilization KAITO passes (the memory model's budget, scaled from its 0.9 to
 * that utilization), in whole 16-token blocks. An explicit context length is kept as asked.
 */
export function maxModelLen(
  preset: Preset,
  s: ResolvedServingOptions,
  explicit: boolean,
  gpu: GpuInfo | undefined,
  gpusPerReplica: number,
): number | undefined {
  if (explicit) return s.contextLength;
  if (!gpu) return undefined;
  const util = vllmGpuMemoryUtilization(gpu.memoryGiB);
  const effective = (gpu.memoryGiB * util) / VLLM_GPU_MEMORY_UTILIZATION;
  const capacity = kvCapacityTokens(preset, effective, gpusPerReplica, { ...s, concurrency: 1 });
  const tokens = Math.min(preset.figures.maxContext, Math.floor(capacity / 16) * 16);
  if (tokens < 16) {
    throw new UserError(
      `"${preset.name}" leaves no room for its KV cache on ${gpusPerReplica} GPU(s) of ${gpu.memoryGiB} GiB; use a larger instance type.`,
    );
  }
  return tokens;
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
  options: InferenceRuntimeOptions,
): string[] {
  // Tensor parallel over the GPUs of each pod, as KAITO does, unless the heads do not divide.
  const layout = replicaLayout(preset.figures, gpus, nodes);
  const flags: Record<string, string> = {
    "served-model-name": preset.name,
    dtype: torchDtype(preset, s, options.gpu),
    "gpu-memory-utilization": formatUtilization(vllmGpuMemoryUtilization(options.gpu?.memoryGiB)),
    "tensor-parallel-size": String(layout.tensor),
    port: String(INFERENCE_PORT),
    [CONFIG_FILE_FLAG]: INFERENCE_CONFIG_FILE,
  };
  const len = maxModelLen(preset, s, options.contextLength !== undefined, options.gpu, gpus * nodes);
  if (len !== undefined) flags["max-model-len"] = String(len);
  if ((options.adapters ?? []).length > 0) flags[VLLM_ENABLE_LORA_FLAG] = "";
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
  gpu: GpuInfo | undefined,
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
    torch_dtype: torchDtype(preset, s, gpu),
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
