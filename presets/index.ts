// The model catalogue, the GPU-memory model and the pod templates. Everything here is pure or
// reads the embedded catalogue lazily; nothing registers itself or touches the disk at import.
import { embeddedCatalog } from "./catalog/load.ts";
import { findPreset, requirePreset } from "./lookup.ts";
import type { Preset } from "./types.ts";

export type {
  ModelFigures,
  NativeDtype,
  Preset,
  RuntimeName,
  ServingDtype,
  TuningMethod,
  WeightsSource,
} from "./types.ts";
export { RUNTIMES, SERVING_DTYPES, TUNING_METHODS } from "./types.ts";
export { CatalogError, isCatalogError, type Catalog } from "./catalog/validate.ts";
export { parseCatalog } from "./catalog/load.ts";
export { customPreset, type CustomModelFigures } from "./custom.ts";
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_CONTEXT_LENGTH,
  DEFAULT_TUNING,
  gpusForReplica,
  gpusForTuning,
  inferenceRequirement,
  kvCapacityTokens,
  resolveServingOptions,
  tuningRequirement,
  type InferenceRequirement,
  type ResolvedServingOptions,
  type ResolvedTuningOptions,
  type ServingOptions,
  type TuningOptions,
  type TuningRequirement,
} from "./requirements.ts";
export {
  inferenceRuntime,
  maxModelLen,
  type AdapterRef,
  type GpuInfo,
  type InferenceRuntimeOptions,
} from "./runtime/inference.ts";
export { DEFAULT_RUNTIME, runtimeFromAnnotation } from "./runtime/select.ts";
export * as contract from "./runtime/contract.ts";
export { tuningRuntime, type TuningRuntimeOptions } from "./runtime/tuning.ts";
export {
  DISTRIBUTED_PORT,
  HEALTH_PATH,
  INFERENCE_PORT,
  SERVICE_PORT,
  type RuntimeSpec,
  type TuningRuntimeSpec,
} from "./runtime/spec.ts";

/** Every preset in the embedded catalogue, in catalogue order. */
export function listPresets(): readonly Preset[] {
  return embeddedCatalog().presets;
}

/** The preset called `name` (case-insensitive), or undefined. */
export function getPreset(name: string): Preset | undefined {
  return findPreset(listPresets(), name);
}

/** The preset called `name`; an unknown name is a UserError that suggests close names. */
export function mustGetPreset(name: string): Preset {
  return requirePreset(listPresets(), name);
}
