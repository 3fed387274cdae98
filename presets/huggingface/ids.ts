/**
 * Hugging Face model ids as `inference.preset.name` (KAITO v0.9+): "organisation/name", the shape
 * huggingface_hub's validate_repo_id accepts (utils/_validators.py: letters, digits, "-", "_", "."
 * in each part, no "--" or "..", not starting or ending with "-" or ".", at most 96 characters).
 * A name without "/" is a preset name: every catalogue preset is one word, so the two never clash.
 */
const PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;

export const HF_ID_MAX = 96;

export function isHuggingFaceModelId(name: string): boolean {
  const parts = name.split("/");
  return (
    name.length <= HF_ID_MAX &&
    parts.length === 2 &&
    parts.every((p) => PART.test(p)) &&
    !name.includes("--") &&
    !name.includes("..")
  );
}
