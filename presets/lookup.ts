import { UserError } from "../lib/errors.ts";
import { closeNames } from "./suggest.ts";
import type { Preset } from "./types.ts";

/** Preset names are case-insensitive, as in KAITO; surrounding blanks are ignored. */
function normalize(name: string): string {
  return name.trim().toLowerCase();
}

export function findPreset(presets: readonly Preset[], name: string): Preset | undefined {
  const wanted = normalize(name);
  return presets.find((p) => p.name === wanted);
}

/** Like findPreset, but an unknown name is a UserError that names it and suggests close names. */
export function requirePreset(presets: readonly Preset[], name: string): Preset {
  const found = findPreset(presets, name);
  if (found) return found;
  const suggestions = closeNames(
    normalize(name),
    presets.map((p) => p.name),
  );
  const hint =
    suggestions.length > 0
      ? `did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?`
      : "run `npm run kaito -- presets` to list them.";
  throw new UserError(`unknown preset "${name}"; ${hint}`);
}
