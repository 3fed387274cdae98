import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { UserError } from "../../lib/errors.ts";
import {
  customPreset,
  gpusForReplica,
  gpusForTuning,
  inferenceRequirement,
  mustGetPreset,
  RUNTIMES,
  SERVING_DTYPES,
  TUNING_METHODS,
  tuningRequirement,
  type Preset,
  type RuntimeName,
  type ServingDtype,
  type TuningMethod,
} from "../../presets/index.ts";
import { formatParameters, formatTable, gib, outputFormat } from "./presets.ts";
import { CliModels, huggingFaceOptions, huggingFaceUsage } from "./huggingface.ts";
import { getPreset, isHuggingFaceModelId } from "../../presets/index.ts";

const usage = `Usage: npm run kaito -- estimate (--preset NAME | --model ORG/NAME | --params N --layers N --hidden N --heads N --kv-heads N [--head-dim N] [--vocab N]) [options]

Estimates the GPU memory one replica of a model needs, term by term, and how many GPUs of common
sizes it takes. Name a preset, a Hugging Face model (sized from its config.json, as the operator
sizes inference.preset.name), or describe any decoder-only model by its figures.

Model:
  --preset NAME        a preset from \`kaito presets\`
  --model ORG/NAME     a Hugging Face model id, e.g. Qwen/Qwen3-8B
${huggingFaceUsage}
  --params N           parameter count: 7.2e9, 7200000000 or 7.2B
  --layers N           num_hidden_layers
  --hidden N           hidden_size
  --heads N            num_attention_heads
  --kv-heads N         num_key_value_heads (equal to --heads without grouped-query attention)
  --head-dim N         head_dim (default: hidden / heads)
  --vocab N            vocab_size (default: 32000)
  --max-context N      max_position_embeddings (default: 131072)

Serving:
  --context N          tokens per request (default: 4096, or the model's limit if shorter)
  --concurrency N      requests held at full context at once (default: 1)
  --dtype D            bf16, fp16, int8 or int4 (default: the model's own)
  --runtime R          vllm (default) or transformers

Tuning:
  --tuning M           estimate lora or qlora fine-tuning instead of serving; --context is then
                       the training sequence length (default 1024) and --concurrency the batch size

Output:
  -o, --output FORMAT  table (default) or json
  -h, --help           show this help
`;

/** Per-GPU memory of the GPUs most clusters have: T4/V100, A10/L4, A100 40GB, A100/H100 80GB, H100 NVL. */
export const COMMON_GPU_SIZES_GIB = [16, 24, 40, 80, 94] as const;

const FIGURE_FLAGS = [
  "params",
  "layers",
  "hidden",
  "heads",
  "kv-heads",
  "head-dim",
  "vocab",
  "max-context",
] as const;
const REQUIRED_FIGURES = ["params", "layers", "hidden", "heads", "kv-heads"] as const;

const options = {
  preset: { type: "string" },
  model: { type: "string" },
  ...huggingFaceOptions,
  params: { type: "string" },
  layers: { type: "string" },
  hidden: { type: "string" },
  heads: { type: "string" },
  "kv-heads": { type: "string" },
  "head-dim": { type: "string" },
  vocab: { type: "string" },
  "max-context": { type: "string" },
  context: { type: "string" },
  concurrency: { type: "string" },
  dtype: { type: "string" },
  runtime: { type: "string" },
  tuning: { type: "string" },
  output: { type: "string", short: "o" },
} as const;

type Values = Partial<Record<keyof typeof options, string>>;

export const estimateCommand: Command = {
  name: "estimate",
  summary: "estimate the GPU memory a preset or any model needs",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(args, options, "estimate");
    const format = outputFormat(values.output, "estimate");
    const preset = await modelFrom(values, io);
    const result = values.tuning === undefined ? serving(preset, values) : tuning(preset, values);
    io.stdout.write(format === "json" ? `${JSON.stringify(result.json, null, 2)}\n` : result.table);
    return 0;
  },
};

async function modelFrom(values: Values, io: Parameters<Command["run"]>[1]): Promise<Preset> {
  const given = FIGURE_FLAGS.filter((f) => values[f] !== undefined);
  if (values.model !== undefined) {
    if (values.preset !== undefined || given.length > 0) {
      throw new UserError(`use one of --model, --preset or the model figures, not several.`);
    }
    const id = values.model.trim();
    const known = getPreset(id);
    if (known) return known;
    if (!isHuggingFaceModelId(id))
      throw new UserError(
        `--model takes a Hugging Face model id such as Qwen/Qwen3-8B, got "${values.model}".`,
      );
    return new CliModels(values, io).preset(id, io.signal);
  }
  if (values.preset !== undefined) {
    if (given.length > 0) {
      throw new UserError(`use either --preset or the model figures (--${given[0]}), not both.`);
    }
    return mustGetPreset(values.preset);
  }
  if (given.length === 0) {
    throw new UserError(
      "name a model with --preset NAME, or describe one with --params, --layers, --hidden, --heads and --kv-heads.",
    );
  }
  const missing = REQUIRED_FIGURES.filter((f) => values[f] === undefined);
  if (missing.length > 0) {
    throw new UserError(
      `a custom model also needs ${missing.map((f) => `--${f}`).join(", ")}; see \`npm run kaito -- estimate --help\`.`,
    );
  }
  return customPreset({
    parameters: parameterCount(values.params!),
    layers: wholeNumber(values.layers, "layers")!,
    hiddenSize: wholeNumber(values.hidden, "hidden")!,
    attentionHeads: wholeNumber(values.heads, "heads")!,
    kvHeads: wholeNumber(values["kv-heads"], "kv-heads"),
    headDim: wholeNumber(values["head-dim"], "head-dim"),
    vocabSize: wholeNumber(values.vocab, "vocab"),
    maxContext: wholeNumber(values["max-context"], "max-context"),
  });
}

/** Accepts 7.2e9, 7200000000, 7.2B and 800M. */
export function parameterCount(text: string): number {
  const suffixed = /^(\d+(?:\.\d+)?)([mMbB])$/.exec(text.trim());
  const value = suffixed ? Number(suffixed[1]) * (/[bB]/.test(suffixed[2]!) ? 1e9 : 1e6) : Number(text);
  if (!/^[\d.eE+]+[mMbB]?$/.test(text.trim()) || !Number.isFinite(value) || value <= 0) {
    throw new UserError(`--params must be a parameter count such as 7.2e9 or 7.2B, got "${text}".`);
  }
  return Math.round(value);
}

function wholeNumber(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim()) || Number(text) <= 0) {
    throw new UserError(`--${flag} must be a positive whole number, got "${text}".`);
  }
  return Number(text);
}

function oneOf<T extends string>(
  text: string | undefined,
  allowed: readonly T[],
  flag: string,
): T | undefined {
  if (text === undefined) return undefined;
  if (!allowed.includes(text as T))
    throw new UserError(`--${flag} must be ${allowed.join(", ")}; got "${text}".`);
  return text as T;
}

interface Output {
  json: unknown;
  table: string;
}

function describeModel(p: Preset): string {
  const f = p.figures;
  const attention =
    f.kvHeads === f.attentionHeads
      ? `${f.attentionHeads} heads`
      : `${f.attentionHeads} heads (${f.kvHeads} KV)`;
  const extras = [
    f.activeParameters !== undefined
      ? `mixture of experts, ${formatParameters(f.activeParameters)} active`
      : "",
    f.kvCacheDim !== undefined ? `latent attention (${f.kvCacheDim} cached per layer)` : "",
    f.quantization !== undefined ? `published in ${f.quantization} (${gib(f.checkpointGiB ?? 0)} GiB)` : "",
  ].filter(Boolean);
  return `${p.name}: ${formatParameters(f.parameters)} parameters, ${f.layers} layers, hidden ${f.hiddenSize}, ${attention}, head dim ${f.headDim}, vocab ${f.vocabSize}, ${f.dtype}${extras.map((e) => `, ${e}`).join("")}`;
}

function gpuTable(counts: Record<string, number | null>, limit: number): string {
  const rows = [
    ["GPU MEMORY", "GPUS PER REPLICA"],
    ...Object.entries(counts).map(([size, k]) => [
      `${size} GiB`,
      k === null ? `does not fit on ${limit}` : k > 8 ? `${k} (${k / 8} nodes of 8)` : String(k),
    ]),
  ];
  return formatTable(rows);
}

function serving(preset: Preset, values: Values): Output {
  const servingOptions = {
    runtime: oneOf<RuntimeName>(values.runtime, RUNTIMES, "runtime"),
    dtype: oneOf<ServingDtype>(values.dtype, SERVING_DTYPES, "dtype"),
    contextLength: wholeNumber(values.context, "context"),
    concurrency: wholeNumber(values.concurrency, "concurrency"),
  };
  const r = inferenceRequirement(preset, servingOptions);
  const counts: Record<string, number | null> = {};
  // A model that may span nodes is counted up to 8 nodes of 8 GPUs, as the planner allows.
  const limit = preset.multiNode && r.maxGpusPerReplica === 8 ? 64 : r.maxGpusPerReplica;
  for (const size of COMMON_GPU_SIZES_GIB) {
    counts[String(size)] = gpusForReplica(preset, size, servingOptions, limit) ?? null;
  }
  const b = r.breakdown;
  const s = r.settings;
  const reserveNote = s.runtime === "vllm" ? "vLLM leaves 10% of each GPU unused" : "allocator fragmentation";
  const lines = [
    [
      "weights",
      gib(b.weightsGiB),
      preset.figures.quantization && (s.dtype === "bf16" || s.dtype === "fp16")
        ? `as published (${preset.figures.quantization})`
        : s.dtype,
    ],
    [
      "KV cache",
      gib(b.kvCacheGiB),
      `${b.kvBytesPerToken / 1024} KiB per token x ${s.contextLength} tokens x ${s.concurrency}`,
    ],
    ["activations", gib(b.activationsGiB), ""],
    ["runtime", gib(b.runtimeGiB), "per GPU: CUDA context, buffers"],
    ["reserve", gib(b.reserveGiB), reserveNote],
    ["total", gib(r.totalGpuMemoryGiB), "one replica on one GPU"],
    [
      "min per GPU",
      gib(r.minGpuMemoryGiB),
      r.maxGpusPerReplica > 1 ? `split over ${r.maxGpusPerReplica} GPUs` : "cannot be split",
    ],
  ];
  const table =
    `model    ${describeModel(preset)}\n` +
    `serving  ${s.runtime}, ${s.dtype}, context ${s.contextLength}, concurrency ${s.concurrency}\n\n` +
    formatTable([["TERM", "GiB", "NOTE"], ...lines], new Set([1])) +
    "\n" +
    gpuTable(counts, limit);
  const json = {
    model: { name: preset.name, ...preset.figures },
    settings: s,
    breakdown: b,
    totalGpuMemoryGiB: r.totalGpuMemoryGiB,
    minGpuMemoryGiB: r.minGpuMemoryGiB,
    perGpuFixedGiB: r.perGpuFixedGiB,
    maxGpusPerReplica: r.maxGpusPerReplica,
    gpusPerReplica: counts,
  };
  return { json, table };
}

function tuning(preset: Preset, values: Values): Output {
  const method = oneOf<TuningMethod>(values.tuning, TUNING_METHODS, "tuning")!;
  if (values.runtime !== undefined || values.dtype !== undefined) {
    throw new UserError(
      `--runtime and --dtype apply to serving only; drop them when estimating --tuning ${method}.`,
    );
  }
  const tuningOptions = {
    sequenceLength: wholeNumber(values.context, "context"),
    batchSize: wholeNumber(values.concurrency, "concurrency"),
  };
  const r = tuningRequirement(preset, method, tuningOptions);
  const counts: Record<string, number | null> = {};
  for (const size of COMMON_GPU_SIZES_GIB) {
    counts[String(size)] = gpusForTuning(preset, method, size, tuningOptions) ?? null;
  }
  const b = r.breakdown;
  const s = r.settings;
  const lines = [
    ["weights", gib(b.weightsGiB), method === "qlora" ? "4-bit NF4, frozen" : "bf16, frozen"],
    [
      "adapters",
      gib(b.adaptersGiB),
      `${formatParameters(r.trainableParameters)} trainable, rank ${s.loraRank}, with Adam state`,
    ],
    ["activations", gib(b.activationsGiB), `${s.sequenceLength} tokens x batch ${s.batchSize}`],
    ["runtime", gib(b.runtimeGiB), "per GPU: CUDA context, buffers"],
    ["reserve", gib(b.reserveGiB), "allocator fragmentation"],
    ["total", gib(r.totalGpuMemoryGiB), "one training process on one GPU"],
    ["min per GPU", gib(r.minGpuMemoryGiB), "layers spread over a node's GPUs"],
  ];
  const table =
    `model    ${describeModel(preset)}\n` +
    `tuning   ${method}, sequence ${s.sequenceLength}, batch ${s.batchSize}\n\n` +
    formatTable([["TERM", "GiB", "NOTE"], ...lines], new Set([1])) +
    "\n" +
    gpuTable(counts, Math.min(8, preset.figures.layers));
  const json = {
    model: { name: preset.name, ...preset.figures },
    method,
    settings: s,
    breakdown: b,
    trainableParameters: r.trainableParameters,
    totalGpuMemoryGiB: r.totalGpuMemoryGiB,
    minGpuMemoryGiB: r.minGpuMemoryGiB,
    gpusPerReplica: counts,
  };
  return { json, table };
}
