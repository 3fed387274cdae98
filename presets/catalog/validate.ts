import { figureProblems } from "../figures.ts";
import {
  RUNTIMES,
  TUNING_METHODS,
  type ModelFigures,
  type NativeDtype,
  type Preset,
  type RuntimeName,
  type TuningMethod,
  type WeightsSource,
} from "../types.ts";

/** A catalogue that failed validation; `problems` lists every fault found, not just the first. */
export class CatalogError extends Error {
  override readonly name = "CatalogError";
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[]) {
    super(`invalid preset catalogue ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

export function isCatalogError(e: unknown): e is CatalogError {
  return e instanceof CatalogError || (e instanceof Error && e.name === "CatalogError");
}

export interface Catalog {
  /** Registry of the preset images, e.g. mcr.microsoft.com/aks/kaito. */
  readonly registry: string;
  /** Full reference of the image with the runtimes but no weights. */
  readonly baseImage: string;
  /**
   * The base image for a Hugging Face model id, which may be newer than any catalogue preset
   * (hubBaseImage; baseImage when the catalogue names none).
   */
  readonly hubBaseImage: string;
  readonly presets: readonly Preset[];
}

// Names end up in Kubernetes object names and labels, hence DNS-label rules.
const NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
const HF_REF = /^([\w.-]+\/[\w.-]+)(?:@([0-9a-f]{40}))?$/;
const IMAGE = /^[a-z0-9][a-z0-9._/-]*:[\w][\w.-]{0,127}$/;
const ARG = /^[a-z0-9][a-z0-9_-]*$/;

const PRESET_KEYS = new Set([
  "name",
  "family",
  "huggingFace",
  "architecture",
  "parameters",
  "layers",
  "hiddenSize",
  "attentionHeads",
  "kvHeads",
  "headDim",
  "vocabSize",
  "maxContext",
  "dtype",
  "tiedEmbeddings",
  "activeParameters",
  "kvCacheDim",
  "quantization",
  "checkpointGiB",
  "weights",
  "runtimes",
  "tensorParallel",
  "multiNode",
  "adapters",
  "vllmArgs",
  "transformersArgs",
  "tuning",
  "readinessTimeoutMinutes",
  "baseImage",
]);

/**
 * Flags the pod builder sets from the serving options; a preset repeating one would give the
 * runtime two conflicting values.
 */
export const RESERVED_ARGS: ReadonlySet<string> = new Set([
  "model",
  "served-model-name",
  "served_model_name",
  "dtype",
  "torch_dtype",
  "tensor-parallel-size",
  "pipeline-parallel-size",
  "max-model-len",
  "gpu-memory-utilization",
  "port",
  "revision",
  "download-dir",
  "quantization",
  "load_in_4bit",
  "load_in_8bit",
  "pretrained_model_name_or_path",
]);

/** Checks a parsed catalogue document and returns it typed; throws CatalogError listing every fault. */
export function validateCatalog(doc: unknown, source: string): Catalog {
  const problems: string[] = [];
  if (!isRecord(doc))
    throw new CatalogError(source, ["the document must be a mapping with registry, baseImage and presets"]);

  const registry = doc.registry;
  if (typeof registry !== "string" || !/^[a-z0-9.-]+(\/[a-z0-9._-]+)*$/.test(registry)) {
    problems.push(
      `registry must be an image registry path such as mcr.microsoft.com/aks/kaito, got ${show(registry)}`,
    );
  }
  const baseImage = doc.baseImage;
  if (typeof baseImage !== "string" || !IMAGE.test(baseImage)) {
    problems.push(`baseImage must be name:tag, got ${show(baseImage)}`);
  }
  const hubBaseImage = doc.hubBaseImage ?? baseImage;
  if (typeof hubBaseImage !== "string" || !IMAGE.test(hubBaseImage)) {
    problems.push(`hubBaseImage must be name:tag, got ${show(hubBaseImage)}`);
  }
  if (!Array.isArray(doc.presets) || doc.presets.length === 0) {
    problems.push("presets must be a non-empty list");
    throw new CatalogError(source, problems);
  }

  const presets: Preset[] = [];
  const seen = new Map<string, number>();
  const prefix = typeof registry === "string" ? `${registry}/` : "";
  doc.presets.forEach((entry: unknown, index: number) => {
    const label =
      isRecord(entry) && typeof entry.name === "string"
        ? `presets[${index}] (${entry.name})`
        : `presets[${index}]`;
    const entryProblems: string[] = [];
    const preset = validatePreset(entry, entryProblems, prefix, `${prefix}${String(baseImage)}`);
    problems.push(...entryProblems.map((p) => `${label}: ${p}`));
    if (!preset) return;
    const first = seen.get(preset.name);
    if (first !== undefined) {
      problems.push(`${label}: duplicate name "${preset.name}", first defined at presets[${first}]`);
      return;
    }
    seen.set(preset.name, index);
    presets.push(preset);
  });

  if (problems.length > 0) throw new CatalogError(source, problems);
  return {
    registry: registry as string,
    baseImage: `${prefix}${baseImage as string}`,
    hubBaseImage: `${prefix}${hubBaseImage as string}`,
    presets,
  };
}

function validatePreset(
  entry: unknown,
  problems: string[],
  registryPrefix: string,
  baseImage: string,
): Preset | undefined {
  if (!isRecord(entry)) {
    problems.push("must be a mapping");
    return undefined;
  }
  for (const key of Object.keys(entry)) {
    if (!PRESET_KEYS.has(key)) problems.push(`unknown field "${key}"`);
  }
  const name = text(entry, "name", problems, NAME, "a lowercase DNS label such as phi-3-mini-4k-instruct");
  const family = text(entry, "family", problems, NAME, "a lowercase word such as phi");
  const architecture = text(
    entry,
    "architecture",
    problems,
    /^[A-Za-z][A-Za-z0-9_]*$/,
    "a model class such as LlamaForCausalLM",
  );
  const hf = text(entry, "huggingFace", problems, HF_REF, "org/repo or org/repo@<40-hex commit>");
  const dtype = entry.dtype;
  if (dtype !== "bf16" && dtype !== "fp16") problems.push(`dtype must be bf16 or fp16, got ${show(dtype)}`);

  const figures: ModelFigures = {
    parameters: entry.parameters as number,
    layers: entry.layers as number,
    hiddenSize: entry.hiddenSize as number,
    attentionHeads: entry.attentionHeads as number,
    kvHeads: entry.kvHeads as number,
    headDim: entry.headDim as number,
    vocabSize: entry.vocabSize as number,
    maxContext: entry.maxContext as number,
    dtype: dtype as NativeDtype,
    tiedEmbeddings: flag(entry, "tiedEmbeddings", false, problems),
    ...optionalNumbers(entry, ["activeParameters", "kvCacheDim", "checkpointGiB"], problems),
    ...(entry.quantization === undefined ? {} : { quantization: quantization(entry.quantization, problems) }),
  };
  if ((figures.quantization === undefined) !== (figures.checkpointGiB === undefined))
    problems.push("quantization and checkpointGiB go together: a quantized checkpoint states its size");
  problems.push(...figureProblems(figures, true));

  const weights = weightsSource(entry.weights, problems, registryPrefix);
  // A model newer than the catalogue's base image's vLLM names the base image it needs.
  const ownBase = entry.baseImage;
  if (ownBase !== undefined && (typeof ownBase !== "string" || !IMAGE.test(ownBase)))
    problems.push(`baseImage must be name:tag, got ${show(ownBase)}`);
  const runtimes = list(entry, "runtimes", RUNTIMES, problems, [...RUNTIMES]) as RuntimeName[];
  if (runtimes.length === 0) problems.push("runtimes must name at least one of vllm, transformers");
  const tuning = list(entry, "tuning", TUNING_METHODS, problems, []) as TuningMethod[];
  const readiness = entry.readinessTimeoutMinutes ?? 30;
  if (!Number.isSafeInteger(readiness) || (readiness as number) <= 0) {
    problems.push(`readinessTimeoutMinutes must be a positive integer, got ${show(readiness)}`);
  }

  const preset: Preset = {
    name: name ?? "",
    family: family ?? "",
    huggingFace: splitHf(hf ?? ""),
    architecture: architecture ?? "",
    figures,
    weights: weights ?? { kind: "private" },
    baseImage: typeof ownBase === "string" ? `${registryPrefix}${ownBase}` : baseImage,
    runtimes,
    tensorParallel: flag(entry, "tensorParallel", true, problems),
    multiNode: flag(entry, "multiNode", false, problems),
    adapters: flag(entry, "adapters", true, problems),
    vllmArgs: args(entry, "vllmArgs", problems),
    transformersArgs: args(entry, "transformersArgs", problems),
    tuning,
    readinessTimeoutMinutes: readiness as number,
  };
  if (preset.multiNode && !preset.tensorParallel)
    problems.push("multiNode needs tensorParallel: a replica that cannot be split cannot span nodes");
  // A preset with faults is still returned (when it has a name) so duplicates are reported too.
  return name === undefined ? undefined : preset;
}

function weightsSource(
  value: unknown,
  problems: string[],
  registryPrefix: string,
): WeightsSource | undefined {
  const usage = "weights must be one of {image: name:tag}, {download: true, gated: bool} or {private: true}";
  if (!isRecord(value)) {
    problems.push(usage);
    return undefined;
  }
  const keys = Object.keys(value).sort().join(",");
  if (keys === "image" && typeof value.image === "string" && IMAGE.test(value.image)) {
    return { kind: "image", image: `${registryPrefix}${value.image}` };
  }
  if ((keys === "download" || keys === "download,gated") && value.download === true) {
    const gated = value.gated ?? false;
    if (typeof gated === "boolean") return { kind: "download", gated };
  }
  if (keys === "private" && value.private === true) return { kind: "private" };
  problems.push(`${usage}, got ${show(value)}`);
  return undefined;
}

function optionalNumbers(
  entry: Record<string, unknown>,
  keys: readonly ("activeParameters" | "kvCacheDim" | "checkpointGiB")[],
  problems: string[],
): Partial<Record<(typeof keys)[number], number>> {
  const out: Partial<Record<(typeof keys)[number], number>> = {};
  for (const key of keys) {
    const value = entry[key];
    if (value === undefined) continue;
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0)
      problems.push(`${key} must be a positive number, got ${show(value)}`);
    else out[key] = value;
  }
  return out;
}

function quantization(value: unknown, problems: string[]): string {
  if (typeof value === "string" && /^[a-z0-9-]+$/.test(value)) return value;
  problems.push(`quantization must be a method such as fp8 or mxfp4, got ${show(value)}`);
  return "";
}

function text(
  entry: Record<string, unknown>,
  key: string,
  problems: string[],
  pattern: RegExp,
  what: string,
): string | undefined {
  const value = entry[key];
  if (typeof value === "string" && pattern.test(value)) return value;
  problems.push(`${key} must be ${what}, got ${show(value)}`);
  return undefined;
}

function flag(entry: Record<string, unknown>, key: string, fallback: boolean, problems: string[]): boolean {
  const value = entry[key] ?? fallback;
  if (typeof value === "boolean") return value;
  problems.push(`${key} must be true or false, got ${show(value)}`);
  return fallback;
}

function list<T extends string>(
  entry: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
  problems: string[],
  fallback: T[],
): T[] {
  const value = entry[key] ?? fallback;
  if (!Array.isArray(value) || value.some((v) => !allowed.includes(v as T))) {
    problems.push(`${key} must be a list drawn from ${allowed.join(", ")}, got ${show(value)}`);
    return fallback;
  }
  if (new Set(value).size !== value.length) problems.push(`${key} lists an entry twice: ${show(value)}`);
  return value as T[];
}

function args(entry: Record<string, unknown>, key: string, problems: string[]): Record<string, string> {
  const value = entry[key] ?? {};
  if (!isRecord(value)) {
    problems.push(`${key} must map flag names to values, got ${show(value)}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [flagName, flagValue] of Object.entries(value)) {
    if (!ARG.test(flagName))
      problems.push(`${key}: "${flagName}" is not a flag name (lowercase, digits, - and _)`);
    else if (RESERVED_ARGS.has(flagName))
      problems.push(`${key}: "${flagName}" is set from the serving options and cannot be fixed per preset`);
    if (typeof flagValue !== "string")
      problems.push(`${key}: the value of "${flagName}" must be a string, got ${show(flagValue)}`);
    else out[flagName] = flagValue;
  }
  return out;
}

function splitHf(ref: string): { repo: string; revision?: string } {
  const [, repo = "", revision] = HF_REF.exec(ref) ?? [];
  return revision ? { repo, revision } : { repo };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
