import { parse } from "yaml";
import { CatalogError } from "./errors.ts";
import type { Catalog, Sku } from "./types.ts";

/** Parses catalogue YAML and validates it; `source` names the file in error messages. */
export function parseCatalog(text: string, source: string): Catalog {
  let data: unknown;
  try {
    data = parse(text);
  } catch (e) {
    throw new CatalogError(
      "InvalidYaml",
      `${source} is not valid YAML: ${e instanceof Error ? e.message : e}.`,
    );
  }
  return validateCatalog(data, source);
}

/** Checks every field of every SKU and returns frozen, normalised data. */
export function validateCatalog(data: unknown, source: string): Catalog {
  if (!isRecord(data) || !Array.isArray(data.skus)) {
    throw new CatalogError("InvalidYaml", `${source} must hold a mapping with a "skus" list.`);
  }
  if (data.skus.length === 0) throw new CatalogError("EmptyCatalog", `${source} lists no SKUs.`);
  const seen = new Set<string>();
  const skus = data.skus.map((raw, i) => {
    const sku = validateSku(raw, `${source} skus[${i}]`);
    const key = sku.name.toLowerCase();
    if (seen.has(key)) throw new CatalogError("DuplicateSku", `${source} lists ${sku.name} twice.`);
    seen.add(key);
    return sku;
  });
  return Object.freeze({ skus: Object.freeze(skus) });
}

function validateSku(raw: unknown, where: string): Sku {
  if (!isRecord(raw)) throw invalid(where, "must be a mapping");
  const field = new Fields(raw, where);
  const sku: Sku = {
    name: field.string("name", /^Standard_[A-Za-z0-9_]+$/),
    series: field.string("series"),
    family: field.string("family"),
    vcpus: field.positiveInteger("vcpus"),
    memoryGiB: field.positiveNumber("memoryGiB"),
    gpus: field.positiveInteger("gpus"),
    gpuFraction: field.fraction("gpuFraction"),
    gpuModel: field.string("gpuModel"),
    gpuMemoryGiB: field.positiveNumber("gpuMemoryGiB"),
    ...(raw.computeCapability === undefined
      ? {}
      : { computeCapability: field.computeCapability("computeCapability") }),
    nvlink: field.boolean("nvlink"),
    infiniband: field.boolean("infiniband"),
    pricePerHour: field.positiveNumber("pricePerHour"),
    priceRegion: field.string("priceRegion", /^[a-z0-9]+$/),
    priceAsOf: field.date("priceAsOf"),
    ...(raw.retired === undefined ? {} : { retired: field.date("retired") }),
  };
  // A slice of a GPU is only ever offered one at a time; "2 x 1/2 GPU" would be a whole GPU.
  if (sku.gpuFraction < 1 && sku.gpus !== 1)
    throw invalid(where, "with gpuFraction below 1 must have gpus: 1");
  const unknown = Object.keys(raw).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0)
    throw invalid(where, `has unknown field ${unknown.map((k) => `"${k}"`).join(", ")}`);
  return Object.freeze(sku);
}

const KNOWN_FIELDS = new Set([
  "name",
  "series",
  "family",
  "vcpus",
  "memoryGiB",
  "gpus",
  "gpuFraction",
  "gpuModel",
  "gpuMemoryGiB",
  "computeCapability",
  "nvlink",
  "infiniband",
  "pricePerHour",
  "priceRegion",
  "priceAsOf",
  "retired",
]);

/** Typed readers over one raw SKU mapping; each throws a CatalogError naming the field. */
class Fields {
  private readonly raw: Record<string, unknown>;
  private readonly where: string;

  constructor(raw: Record<string, unknown>, where: string) {
    this.raw = raw;
    this.where = where;
  }

  string(key: string, pattern?: RegExp): string {
    const v = this.raw[key];
    if (typeof v !== "string" || v.trim() === "") throw this.bad(key, "a non-empty string");
    if (pattern && !pattern.test(v)) throw this.bad(key, `a string matching ${pattern}`);
    return v;
  }

  positiveNumber(key: string): number {
    const v = this.raw[key];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) throw this.bad(key, "a positive number");
    return v;
  }

  positiveInteger(key: string): number {
    const v = this.positiveNumber(key);
    if (!Number.isInteger(v)) throw this.bad(key, "a positive integer");
    return v;
  }

  boolean(key: string): boolean {
    const v = this.raw[key];
    if (typeof v !== "boolean") throw this.bad(key, "true or false");
    return v;
  }

  /** Absent means a whole GPU; otherwise "1/6"-style text or a number in (0, 1]. */
  fraction(key: string): number {
    const v = this.raw[key];
    if (v === undefined) return 1;
    const value = typeof v === "string" ? parseFraction(v) : v;
    if (typeof value !== "number" || !(value > 0 && value <= 1)) {
      throw this.bad(key, 'a fraction in (0, 1] such as "1/6"');
    }
    return value;
  }

  /** A CUDA compute capability: major.minor, from 3.0 (Kepler) up. */
  computeCapability(key: string): number {
    const v = this.raw[key];
    if (typeof v !== "number" || !(v >= 3 && v < 20) || Math.round(v * 10) !== v * 10)
      throw this.bad(key, "a CUDA compute capability such as 7.0 or 8.6");
    return v;
  }

  date(key: string): string {
    const v = this.string(key, /^\d{4}-\d{2}-\d{2}$/);
    if (Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw this.bad(key, "a real calendar date");
    return v;
  }

  private bad(key: string, expected: string): CatalogError {
    return invalid(this.where, `field "${key}" must be ${expected} (got ${JSON.stringify(this.raw[key])})`);
  }
}

function parseFraction(text: string): number | undefined {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) return undefined;
  const den = Number(m[2]);
  return den === 0 ? undefined : Number(m[1]) / den;
}

function invalid(where: string, what: string): CatalogError {
  return new CatalogError("InvalidSku", `${where} ${what}.`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
