import { UserError } from "../lib/errors.ts";
import { isHuggingFaceModelId } from "./huggingface/ids.ts";
import { closeNames } from "./suggest.ts";
import type { Preset } from "./types.ts";

/** Preset names are case-insensitive, as in KAITO; surrounding blanks are ignored. */
function normalize(name: string): string {
  return name.trim().toLowerCase();
}

/**
 * The preset called `name`, or whose Hugging Face repository `name` is (KAITO v0.12 names its
 * presets both ways: gemma-3-4b-instruct or google/gemma-3-4b-it), or undefined.
 */
export function findPreset(presets: readonly Preset[], name: string): Preset | undefined {
  const wanted = normalize(name);
  return (
    presets.find((p) => p.name === wanted) ?? presets.find((p) => p.huggingFace.repo.toLowerCase() === wanted)
  );
}

function unknownPreset(presets: readonly Preset[], name: string): string {
  const suggestions = closeNames(
    normalize(name),
    presets.map((p) => p.name),
  );
  const hint =
    suggestions.length > 0
      ? `did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?`
      : "run `npm run kaito -- presets` to list them, or give a Hugging Face model id such as Qwen/Qwen3-8B.";
  return `unknown preset "${name}"; ${hint}`;
}

/** Like findPreset, but an unknown name is a UserError that names it and suggests close names. */
export function requirePreset(presets: readonly Preset[], name: string): Preset {
  const found = findPreset(presets, name);
  if (found) return found;
  throw new UserError(unknownPreset(presets, name));
}

/**
 * Why `name` cannot be an inference preset name, or undefined when it can: a catalogue preset,
 * a catalogue model's Hugging Face id, or any Hugging Face model id (organisation/name), which the
 * operator sizes from its config.json. The one check of a preset name; admission webhooks use it.
 */
export function presetNameProblem(presets: readonly Preset[], name: string): string | undefined {
  if (findPreset(presets, name) || isHuggingFaceModelId(name.trim())) return undefined;
  return unknownPreset(presets, name);
}
