import { parse as parseYaml } from "yaml";
import { UserError } from "../../lib/errors.ts";
import type { Demand, ExistingNode, Labels, Problem, SkuSpec } from "./types.ts";

export interface ParseOptions {
  /** Used when the problem has no `catalog`: the embedded SKU snapshot. */
  defaultCatalog?: readonly SkuSpec[];
}

/** A replica count beyond this is a typo, and would only exhaust memory. */
const MAX_REPLICAS = 100_000;

/** Parses a problem file (YAML, or JSON, which is YAML) and validates it. */
export function parseProblem(text: string, options: ParseOptions = {}): Problem {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: false });
  } catch (e) {
    const first = (e instanceof Error ? e.message : String(e)).split("\n")[0]!.replace(/[.:]$/, "");
    throw new UserError(`the problem file is not valid YAML or JSON: ${first}.`);
  }
  return validateProblem(raw, options);
}

/**
 * Checks a parsed problem against DESIGN.md's format. Every error is one sentence that names
 * the field by its path, e.g. `demands[3].replicas must be a positive integer, got -1.`
 */
export function validateProblem(raw: unknown, options: ParseOptions = {}): Problem {
  if (!isRecord(raw))
    throw fail(`the problem must be a mapping with catalog, quota, nodes and demands, got ${show(raw)}`);
  onlyKeys(raw, "", ["catalog", "quota", "nodes", "demands"]);

  let catalog: SkuSpec[];
  if (raw.catalog === undefined || raw.catalog === null) {
    if (!options.defaultCatalog)
      throw fail("the problem has no catalog and no embedded catalogue is available");
    catalog = [...options.defaultCatalog];
  } else {
    catalog = list(raw.catalog, "catalog").map((e, i) => sku(e, `catalog[${i}]`));
    if (catalog.length === 0)
      throw fail("catalog must list at least one SKU, or be left out to use the embedded one");
    unique(
      catalog.map((s) => s.name.toLowerCase()),
      "catalog",
      "name",
    );
  }
  const byName = new Map(catalog.map((s) => [s.name.toLowerCase(), s]));

  const quota: Record<string, number> = {};
  if (raw.quota !== undefined && raw.quota !== null) {
    if (!isRecord(raw.quota))
      throw fail(`quota must be a mapping from family to vCPUs, got ${show(raw.quota)}`);
    for (const [family, v] of Object.entries(raw.quota)) quota[family] = nonNegative(v, `quota.${family}`);
  }

  const nodes =
    raw.nodes === undefined || raw.nodes === null
      ? []
      : list(raw.nodes, "nodes").map((e, i) => node(e, `nodes[${i}]`, byName));
  unique(
    nodes.map((n) => n.name),
    "nodes",
    "name",
  );

  if (raw.demands === undefined || raw.demands === null)
    throw fail("demands is missing: list the workloads to place");
  const demands = list(raw.demands, "demands").map((e, i) => demand(e, `demands[${i}]`, byName));
  unique(
    demands.map((d) => d.name),
    "demands",
    "name",
  );
  return { catalog, quota, nodes, demands };
}

function sku(raw: unknown, path: string): SkuSpec {
  const r = record(raw, path);
  onlyKeys(r, path, ["name", "gpus", "gpuMemoryGiB", "vcpus", "family", "pricePerHour"]);
  return {
    name: text(r.name, `${path}.name`),
    gpus: positiveInt(r.gpus, `${path}.gpus`),
    gpuMemoryGiB: positive(r.gpuMemoryGiB, `${path}.gpuMemoryGiB`),
    vcpus: positiveInt(r.vcpus, `${path}.vcpus`),
    family: text(r.family, `${path}.family`),
    pricePerHour: nonNegative(r.pricePerHour, `${path}.pricePerHour`),
  };
}

function node(raw: unknown, path: string, skus: Map<string, SkuSpec>): ExistingNode {
  const r = record(raw, path);
  onlyKeys(r, path, ["name", "sku", "labels", "freeGpus"]);
  const name = text(r.name, `${path}.name`);
  const skuName = text(r.sku, `${path}.sku`);
  const spec = skus.get(skuName.toLowerCase());
  if (!spec) throw fail(`${path}.sku names "${skuName}", which is not in the catalogue`);
  const free = r.freeGpus;
  if (!Number.isInteger(free) || (free as number) < 0 || (free as number) > spec.gpus) {
    throw fail(
      `${path}.freeGpus must be an integer from 0 to ${spec.gpus} (the GPUs of ${spec.name}), got ${show(free)}`,
    );
  }
  return { name, sku: spec.name, labels: labels(r.labels, `${path}.labels`), freeGpus: free as number };
}

function demand(raw: unknown, path: string, skus: Map<string, SkuSpec>): Demand {
  const r = record(raw, path);
  onlyKeys(r, path, [
    "name",
    "replicas",
    "totalGpuMemoryGiB",
    "minGpuMemoryGiB",
    "skus",
    "labels",
    "maxNodesPerReplica",
  ]);
  const replicas = positiveInt(r.replicas, `${path}.replicas`);
  if (replicas > MAX_REPLICAS)
    throw fail(`${path}.replicas must be at most ${MAX_REPLICAS}, got ${replicas}`);
  const out: Demand = {
    name: text(r.name, `${path}.name`),
    replicas,
    totalGpuMemoryGiB: positive(r.totalGpuMemoryGiB, `${path}.totalGpuMemoryGiB`),
    minGpuMemoryGiB:
      r.minGpuMemoryGiB === undefined ? 0 : nonNegative(r.minGpuMemoryGiB, `${path}.minGpuMemoryGiB`),
    labels: labels(r.labels, `${path}.labels`),
    maxNodesPerReplica:
      r.maxNodesPerReplica === undefined
        ? 1
        : positiveInt(r.maxNodesPerReplica, `${path}.maxNodesPerReplica`),
  };
  if (r.skus !== undefined) {
    const names = list(r.skus, `${path}.skus`);
    if (names.length === 0)
      throw fail(`${path}.skus must list at least one SKU, or be left out to allow any`);
    out.skus = [
      ...new Set(
        names.map((n, i) => {
          const name = text(n, `${path}.skus[${i}]`);
          const spec = skus.get(name.toLowerCase());
          if (!spec) throw fail(`${path}.skus[${i}] names "${name}", which is not in the catalogue`);
          return spec.name;
        }),
      ),
    ];
  }
  return out;
}

function labels(raw: unknown, path: string): Labels {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw fail(`${path} must be a mapping of label names to strings, got ${show(raw)}`);
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== "string") throw fail(`${path}.${k} must be a string (quote it in YAML), got ${show(v)}`);
  }
  return raw as Labels;
}

function record(raw: unknown, path: string): Record<string, unknown> {
  if (!isRecord(raw)) throw fail(`${path} must be a mapping, got ${show(raw)}`);
  return raw;
}

function list(raw: unknown, path: string): unknown[] {
  if (!Array.isArray(raw)) throw fail(`${path} must be a list, got ${show(raw)}`);
  return raw;
}

function onlyKeys(r: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  const extra = Object.keys(r).find((k) => !allowed.includes(k));
  if (extra !== undefined) {
    const where = path === "" ? "at the top level" : `in ${path}`;
    throw fail(`unknown field "${extra}" ${where}; the fields are ${allowed.join(", ")}`);
  }
}

function unique(names: string[], path: string, field: string): void {
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    const first = seen.get(n);
    if (first !== undefined) throw fail(`${path}[${i}].${field} "${n}" repeats ${path}[${first}].${field}`);
    seen.set(n, i);
  });
}

function text(v: unknown, path: string): string {
  if (typeof v !== "string" || v.trim() === "")
    throw fail(`${path} must be a non-empty string, got ${show(v)}`);
  return v;
}

function positiveInt(v: unknown, path: string): number {
  if (!Number.isSafeInteger(v) || (v as number) <= 0)
    throw fail(`${path} must be a positive integer, got ${show(v)}`);
  return v as number;
}

function positive(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw fail(`${path} must be a positive number, got ${show(v)}`);
  }
  return v;
}

function nonNegative(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw fail(`${path} must be a non-negative number, got ${show(v)}`);
  }
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object" && v !== null) return "a mapping";
  return String(v);
}

function fail(message: string): UserError {
  return new UserError(`${message}.`);
}
