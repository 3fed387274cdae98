const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds of a duration written as a number with a unit ("90s", "15m", "2h", "30d", "1d12h") or a
 * bare number of seconds. Undefined when the text is not a non-negative duration, so the caller
 * can name the field in its error.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value * 1_000 : undefined;
  if (typeof value !== "string") return undefined;
  const text = value.replace(/\s+/g, "");
  // One or more number-unit parts, largest first as people write them: "1d12h", "2h30m".
  if (!/^(\d+(\.\d+)?[smhd])+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return ms;
}

/** A short human form of a duration, for tables: "42s", "7.5m", "3.2h", "2.0d". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1_000)}s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)}m`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}
