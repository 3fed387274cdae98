/**
 * Up to `limit` candidates that look like `input`: those containing it (or contained in it), then
 * those within a small edit distance, nearest first. Used for "did you mean" hints.
 */
export function closeNames(input: string, candidates: readonly string[], limit = 3): string[] {
  const needle = input.toLowerCase();
  if (needle.length === 0) return [];
  const budget = Math.max(2, Math.floor(needle.length / 3));
  const scored = candidates
    .map((name) => {
      const lower = name.toLowerCase();
      return {
        name,
        distance: editDistance(needle, lower),
        contains: lower.includes(needle) || needle.includes(lower),
      };
    })
    .filter((c) => c.contains || c.distance <= budget);
  // Beside a near miss, farther candidates are noise: keep those within one edit of the best.
  const best = Math.min(...scored.map((c) => c.distance));
  return scored
    .filter((c) => c.contains || c.distance <= best + 1)
    .sort(
      (a, b) =>
        Number(b.contains) - Number(a.contains) || a.distance - b.distance || a.name.localeCompare(b.name),
    )
    .slice(0, limit)
    .map((c) => c.name);
}

/** Levenshtein distance with the usual unit costs. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
