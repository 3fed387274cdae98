import { runtimeAnnotation, type Workspace } from "../../crds/index.ts";
import {
  inferenceRequirement,
  mustGetPreset,
  runtimeFromAnnotation,
  tuningRequirement,
  type Preset,
} from "../../presets/index.ts";
import type { Requirement } from "./placement.ts";

/** What one replica needs: a preset sized by the memory model, or a user pod template's own GPU count. */
export type ModelNeed =
  { kind: "preset"; preset: Preset; requirement: Requirement } | { kind: "template"; gpus: number };

interface TemplateShape {
  spec?: {
    containers?: { resources?: { limits?: Record<string, string>; requests?: Record<string, string> } }[];
  };
}

function templateGpus(ws: Workspace): number {
  const containers = (ws.inference?.template as TemplateShape | undefined)?.spec?.containers ?? [];
  const gpus = containers.reduce(
    (sum, c) =>
      sum + Number(c.resources?.limits?.["nvidia.com/gpu"] ?? c.resources?.requests?.["nvidia.com/gpu"] ?? 0),
    0,
  );
  return Math.max(1, gpus);
}

/**
 * Throws UserError for an unknown preset, an unknown runtime, or a tuning method the preset does
 * not support (the admission webhook refuses these first, where it runs).
 */
export function modelNeed(ws: Workspace): ModelNeed {
  if (ws.tuning) {
    const preset = mustGetPreset(ws.tuning.preset!.name);
    const r = tuningRequirement(preset, ws.tuning.method ?? "lora");
    return {
      kind: "preset",
      preset,
      requirement: { totalGpuMemoryGiB: r.totalGpuMemoryGiB, minGpuMemoryGiB: r.minGpuMemoryGiB },
    };
  }
  const presetName = ws.inference?.preset?.name;
  if (!presetName) return { kind: "template", gpus: templateGpus(ws) };
  const preset = mustGetPreset(presetName);
  // The runtime changes the memory a replica needs (vLLM reserves its KV cache up front).
  const r = inferenceRequirement(preset, {
    runtime: runtimeFromAnnotation(ws.metadata?.annotations?.[runtimeAnnotation]),
  });
  return {
    kind: "preset",
    preset,
    requirement: { totalGpuMemoryGiB: r.totalGpuMemoryGiB, minGpuMemoryGiB: r.minGpuMemoryGiB },
  };
}

/** The requirement to plan with: a template's GPUs are whole GPUs of whatever size the SKU has. */
export function requirementOn(need: ModelNeed, gpuMemoryGiB: number): Requirement {
  return need.kind === "preset"
    ? need.requirement
    : { totalGpuMemoryGiB: need.gpus * gpuMemoryGiB, minGpuMemoryGiB: 0 };
}
