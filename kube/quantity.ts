// Kubernetes resource quantities ("8", "1k", "500m", "2Gi", "1e3") as plain numbers. Callers
// count GPUs and compare with zero, and the API server keeps GPU counts whole, so a float is ample.

const suffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const pattern = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The value of a quantity string or number, or undefined when it is not a valid quantity. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value !== "string") return undefined;
  // The common case on the hot path: a plain integer such as "8".
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const match = pattern.exec(value.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2]) return base * 10 ** Number(match[2].slice(1));
  return base * suffixes[match[3] ?? ""]!;
}

/** The value of a quantity; 0 for anything absent or malformed (which no resource check should pass). */
export function quantity(value: string | number | undefined): number {
  return parseQuantity(value) ?? 0;
}
