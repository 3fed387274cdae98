// Reading untrusted JSON. kube-scheduler is written in Go, whose encoding/json matches object keys
// to struct fields exactly first and then ignoring case; we read requests the same way, so a
// client that writes "pod" or "nodeNames" is understood too.

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `obj[key]`, else the value of the first key equal to `key` ignoring case. */
export function field(obj: unknown, key: string): unknown {
  if (!isObject(obj)) return undefined;
  const exact = obj[key];
  if (exact !== undefined) return exact;
  const folded = key.toLowerCase();
  for (const k in obj) {
    if (k.length === key.length && k.toLowerCase() === folded) return obj[k];
  }
  return undefined;
}

/** Follows a path of keys with `field`. */
export function path(obj: unknown, ...keys: string[]): unknown {
  let current = obj;
  for (const key of keys) current = field(current, key);
  return current;
}

/** A string-to-string map (labels, annotations), keeping only string values. */
export function stringMap(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  const out: Record<string, string> = {};
  for (const k in value) {
    const v = value[k];
    if (typeof v === "string") out[k] = v;
  }
  return out;
}
