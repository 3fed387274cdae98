/** The q-quantile (0..1) of `values` by linear interpolation; undefined when empty. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Bin edges and counts of a histogram of `values` with `bins` equal-width bins from 0. */
export function histogram(values: readonly number[], bins: number): { edges: number[]; counts: number[] } {
  const max = Math.max(1, ...values);
  const width = max / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor(v / width))]!++;
  return { edges: Array.from({ length: bins + 1 }, (_, i) => i * width), counts };
}
