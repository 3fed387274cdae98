import { UserError } from "../lib/errors.ts";
import { gpusNeeded, inferenceMemory, kvBudgetGiB, type InferenceMemoryInput } from "./memory/inference.ts";
import { powersOfTwo } from "./memory/parallel.ts";
import { maxTuningGpus, tuningMemory, tuningPerGpuNeedGiB, type TuningMemoryInput } from "./memory/tuning.ts";
import { GiB, kvBytesPerToken } from "./memory/weights.ts";
import {
  SERVING_DTYPES,
  type Preset,
  type RuntimeName,
  type ServingDtype,
  type TuningMethod,
} from "./types.ts";

export interface ServingOptions {
  runtime?: RuntimeName;
  /** Longest prompt plus completion one request may use, in tokens (vLLM --max-model-len). */
  contextLength?: number;
  /** Requests served at once, each assumed to reach the full context. */
  concurrency?: number;
  dtype?: ServingDtype;
}

export type ResolvedServingOptions = Required<ServingOptions>;

/**
 * Context sized for when none is given: long enough for chat with retrieval, short enough that
 * a 128k-context model does not reserve 16 GiB of KV cache it will rarely use. Models with a
 * shorter limit use their limit.
 */
export const DEFAULT_CONTEXT_LENGTH = 4096;
/** One full-context sequence is what vLLM itself requires to start; more is a throughput choice. */
export const DEFAULT_CONCURRENCY = 1;

export interface InferenceRequirement {
  /** GPU memory one replica needs in all, for the planner to pack. */
  readonly totalGpuMemoryGiB: number;
  /** Smallest per-GPU memory on which one replica can run at all. */
  readonly minGpuMemoryGiB: number;
  /** What each GPU beyond the first adds; see presets/memory/inference.ts. */
  readonly perGpuFixedGiB: number;
  readonly maxGpusPerReplica: number;
  readonly breakdown: {
    readonly weightsGiB: number;
    readonly kvCacheGiB: number;
    readonly activationsGiB: number;
    readonly runtimeGiB: number;
    readonly reserveGiB: number;
    readonly kvBytesPerToken: number;
  };
  readonly settings: ResolvedServingOptions;
}

export interface TuningOptions {
  /** Tokens per training sample (longer samples are truncated). */
  sequenceLength?: number;
  /** Samples per GPU per step (KAITO's templates: per_device_train_batch_size 1). */
  batchSize?: number;
  /** LoRA rank (KAITO's templates: r 8). */
  loraRank?: number;
  gradientCheckpointing?: boolean;
}

export type ResolvedTuningOptions = Required<TuningOptions>;

export const DEFAULT_TUNING: ResolvedTuningOptions = {
  sequenceLength: 1024,
  batchSize: 1,
  loraRank: 8,
  gradientCheckpointing: false,
};

export interface TuningRequirement {
  readonly method: TuningMethod;
  readonly totalGpuMemoryGiB: number;
  /** Smallest per-GPU memory on which one tuning process fits, its layers spread over a node's GPUs. */
  readonly minGpuMemoryGiB: number;
  readonly trainableParameters: number;
  readonly breakdown: {
    readonly weightsGiB: number;
    readonly adaptersGiB: number;
    readonly activationsGiB: number;
    readonly runtimeGiB: number;
    readonly reserveGiB: number;
  };
  readonly settings: ResolvedTuningOptions;
}

/** Fills in defaults and rejects options the preset cannot honour, as UserErrors. */
export function resolveServingOptions(preset: Preset, options: ServingOptions = {}): ResolvedServingOptions {
  const runtime = options.runtime ?? (preset.runtimes.includes("vllm") ? "vllm" : preset.runtimes[0]!);
  if (!preset.runtimes.includes(runtime)) {
    throw new UserError(
      `preset "${preset.name}" does not run on ${runtime}; use ${preset.runtimes.join(" or ")}.`,
    );
  }
  const max = preset.figures.maxContext;
  const contextLength = options.contextLength ?? Math.min(DEFAULT_CONTEXT_LENGTH, max);
  positiveInteger(contextLength, "context length", "tokens");
  if (contextLength > max) {
    throw new UserError(
      `context length ${contextLength} exceeds the ${max}-token limit of "${preset.name}"; use at most ${max}.`,
    );
  }
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  positiveInteger(concurrency, "concurrency", "requests");
  const dtype = options.dtype ?? preset.figures.dtype;
  if (!SERVING_DTYPES.includes(dtype)) {
    throw new UserError(`dtype must be one of ${SERVING_DTYPES.join(", ")}, got "${String(dtype)}".`);
  }
  return { runtime, contextLength, concurrency, dtype };
}

/** The memory-model input for serving `preset` with resolved options. */
export function servingMemoryInput(preset: Preset, settings: ResolvedServingOptions): InferenceMemoryInput {
  return {
    model: preset.figures,
    runtime: settings.runtime,
    dtype: settings.dtype,
    contextLength: settings.contextLength,
    concurrency: settings.concurrency,
    shardable: preset.tensorParallel,
  };
}

/** GPU memory one inference replica needs. */
export function inferenceRequirement(preset: Preset, options?: ServingOptions): InferenceRequirement {
  const settings = resolveServingOptions(preset, options);
  const m = inferenceMemory(servingMemoryInput(preset, settings));
  return {
    totalGpuMemoryGiB: m.totalGpuMemoryGiB,
    minGpuMemoryGiB: m.minGpuMemoryGiB,
    perGpuFixedGiB: m.perGpuFixedGiB,
    maxGpusPerReplica: m.maxGpusPerReplica,
    breakdown: {
      weightsGiB: m.weightsGiB,
      kvCacheGiB: m.kvCacheGiB,
      activationsGiB: m.activationsGiB,
      runtimeGiB: m.runtimeGiB,
      reserveGiB: m.reserveGiB,
      kvBytesPerToken: m.kvBytesPerToken,
    },
    settings,
  };
}

/**
 * The fewest GPUs of `gpuMemoryGiB` each that hold one replica (a power of two), or undefined
 * when no count up to `maxGpus` does. Exact where the planner's k x m >= total is approximate.
 */
export function gpusForReplica(
  preset: Preset,
  gpuMemoryGiB: number,
  options?: ServingOptions,
  maxGpus?: number,
): number | undefined {
  const settings = resolveServingOptions(preset, options);
  return gpusNeeded(servingMemoryInput(preset, settings), gpuMemoryGiB, maxGpus);
}

/**
 * Tokens of KV cache one replica has room for on `gpus` GPUs of `gpuMemoryGiB` each (0 when the
 * weights do not even fit): the largest --max-model-len vLLM would accept at concurrency 1.
 */
export function kvCapacityTokens(
  preset: Preset,
  gpuMemoryGiB: number,
  gpus: number,
  options?: ServingOptions,
): number {
  const settings = resolveServingOptions(preset, options);
  const input = servingMemoryInput(preset, settings);
  const budget = kvBudgetGiB(input, gpuMemoryGiB, gpus);
  return budget <= 0 ? 0 : Math.floor((budget * GiB) / kvBytesPerToken(preset.figures));
}

/** GPU memory one fine-tuning process needs. */
export function tuningRequirement(
  preset: Preset,
  method: TuningMethod,
  options: TuningOptions = {},
): TuningRequirement {
  const { input, settings } = tuningInput(preset, method, options);
  const m = tuningMemory(input);
  return {
    method,
    totalGpuMemoryGiB: m.totalGpuMemoryGiB,
    minGpuMemoryGiB: m.minGpuMemoryGiB,
    trainableParameters: m.trainableParameters,
    breakdown: {
      weightsGiB: m.weightsGiB,
      adaptersGiB: m.adaptersGiB,
      activationsGiB: m.activationsGiB,
      runtimeGiB: m.runtimeGiB,
      reserveGiB: m.reserveGiB,
    },
    settings,
  };
}

/**
 * The fewest GPUs (a power of two, on one node) of `gpuMemoryGiB` each that one tuning process
 * fits on, or undefined when a node's worth is not enough.
 */
export function gpusForTuning(
  preset: Preset,
  method: TuningMethod,
  gpuMemoryGiB: number,
  options: TuningOptions = {},
): number | undefined {
  const { input } = tuningInput(preset, method, options);
  return powersOfTwo(maxTuningGpus(preset.figures)).find(
    (k) => tuningPerGpuNeedGiB(input, k) <= gpuMemoryGiB + 1e-9,
  );
}

function tuningInput(
  preset: Preset,
  method: TuningMethod,
  options: TuningOptions,
): { input: TuningMemoryInput; settings: ResolvedTuningOptions } {
  if (!preset.tuning.includes(method)) {
    const why =
      preset.tuning.length === 0
        ? `preset "${preset.name}" does not support tuning (instruct and chat models are already tuned)`
        : `preset "${preset.name}" supports ${preset.tuning.join(" and ")} tuning, not ${method}`;
    throw new UserError(`${why}; run \`npm run kaito -- presets\` to see which presets can be tuned.`);
  }
  const settings: ResolvedTuningOptions = {
    sequenceLength: options.sequenceLength ?? DEFAULT_TUNING.sequenceLength,
    batchSize: options.batchSize ?? DEFAULT_TUNING.batchSize,
    loraRank: options.loraRank ?? DEFAULT_TUNING.loraRank,
    gradientCheckpointing: options.gradientCheckpointing ?? DEFAULT_TUNING.gradientCheckpointing,
  };
  positiveInteger(settings.sequenceLength, "sequence length", "tokens");
  positiveInteger(settings.batchSize, "batch size", "samples");
  positiveInteger(settings.loraRank, "LoRA rank", "");
  return { input: { model: preset.figures, method, ...settings }, settings };
}

function positiveInteger(value: number, what: string, unit: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new UserError(`${what} must be a positive whole number${unit ? ` of ${unit}` : ""}, got ${value}.`);
  }
}
