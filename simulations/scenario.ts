import { parse } from "yaml";
import { UserError } from "../lib/errors.ts";
import { getPreset, inferenceRequirement, listPresets } from "../presets/index.ts";
import { toCatalogEntries } from "../planner/catalog/index.ts";
import { shapeOn, type SkuSpec } from "../planner/packing/index.ts";
import { MAX_NODES_PER_REPLICA } from "../planner/placement/index.ts";
import { parseDuration } from "./duration.ts";

/** How many whole nodes one replica may span in a simulation (a demand's maxNodesPerReplica). */

/** A random duration: how long a workspace lives, or a node takes to come up. Times in ms. */
export type Distribution =
  | { kind: "fixed"; value: number }
  | { kind: "uniform"; min: number; max: number }
  | { kind: "exponential"; mean: number }
  | { kind: "lognormal"; median: number; p95: number };

export interface ModelChoice {
  preset: string;
  weight: number;
  totalGpuMemoryGiB: number;
  minGpuMemoryGiB: number;
  /**
   * The size a KAITO user names for this model (KAITO requires resource.instanceType; its docs
   * suggest one per model). Only the `dedicated` policy, KAITO's, uses it: kaito-ts users leave
   * it out and let the planner choose.
   */
  instanceType?: string;
}

export interface LabelGroup {
  name: string;
  weight: number;
  labels: Record<string, string>;
  /** Replicas of this group may only use SKUs offered in this zone. */
  zone?: string;
}

export interface Burst {
  at: number;
  count: number;
  within: number;
}

/** A validated scenario; every time is in milliseconds from the start of the simulation. */
export interface Scenario {
  name: string;
  description: string;
  duration: number;
  seed: number;
  arrivals: { rate?: number; count?: number; bursts: Burst[] };
  lifetime: Distribution;
  models: ModelChoice[];
  replicas: { value: number; weight: number }[];
  labelGroups: LabelGroup[];
  catalog: SkuSpec[];
  /** vCPU limit per family; a family not listed is unlimited. */
  quota: Record<string, number>;
  /** SKU name → zones offering it; a SKU not listed is offered in every zone. */
  zones: Record<string, string[]>;
  provisioning: {
    delay: Distribution;
    perSku: Record<string, Distribution>;
    failureRate: number;
    maxRetries: number;
    retryBackoff: number;
  };
  /** An empty node is removed after this long, unless a new replica takes it first. */
  idleTimeout: number;
  /** Interval of the time series in the report. */
  sampleEvery: number;
}

type Obj = Record<string, unknown>;

function fail(field: string, what: string, got: unknown): never {
  throw new UserError(`${field} ${what}, got ${JSON.stringify(got) ?? String(got)}.`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string): Obj {
  if (v === undefined) return {};
  if (!isObj(v)) fail(field, "must be a mapping", v);
  return v;
}

function knownKeys(o: Obj, field: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) {
      const where = field ? `${field}.${k}` : k;
      throw new UserError(`${where} is not a scenario field; expected one of ${keys.join(", ")}.`);
    }
  }
}

function positive(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(field, "must be a positive number", v);
  return v;
}

function nonNegative(v: unknown, field: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) fail(field, "must be a number ≥ 0", v);
  return v;
}

function count(v: unknown, field: string, min = 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min)
    fail(field, min === 0 ? "must be a whole number ≥ 0" : "must be a positive whole number", v);
  return v;
}

function duration(v: unknown, field: string, positiveOnly = false): number {
  const ms = parseDuration(v);
  if (ms === undefined || (positiveOnly && ms <= 0))
    fail(
      field,
      `must be a ${positiveOnly ? "positive " : ""}duration such as "90s", "15m", "2h" or "30d"`,
      v,
    );
  return ms;
}

/** `models`: preset → weight, or preset → {weight, instanceType}. */
function modelEntries(v: unknown): [string, number, string | undefined][] {
  const o = obj(v, "models");
  if (Object.keys(o).length === 0) fail("models", "must list at least one entry with a weight", v);
  return Object.entries(o).map(([name, entry]) => {
    const field = `models.${name}`;
    if (!isObj(entry)) return [name, positive(entry, field), undefined];
    knownKeys(entry, field, ["weight", "instanceType"]);
    const it = entry.instanceType;
    if (it !== undefined && (typeof it !== "string" || it === ""))
      fail(`${field}.instanceType`, "must be a SKU name", it);
    return [name, positive(entry.weight, `${field}.weight`), it as string | undefined];
  });
}

function weights(v: unknown, field: string): [string, number][] {
  const o = obj(v, field);
  const entries = Object.entries(o).map(([k, w]) => [k, positive(w, `${field}.${k}`)] as [string, number]);
  if (entries.length === 0) fail(field, "must list at least one entry with a weight", v);
  return entries;
}

export function parseDistribution(v: unknown, field: string): Distribution {
  const o = obj(v, field);
  if (!isObj(v)) fail(field, "must be a mapping with a distribution", v);
  switch (o.distribution) {
    case "fixed":
      knownKeys(o, field, ["distribution", "value"]);
      return { kind: "fixed", value: duration(o.value, `${field}.value`) };
    case "uniform": {
      knownKeys(o, field, ["distribution", "min", "max"]);
      const min = duration(o.min, `${field}.min`);
      const max = duration(o.max, `${field}.max`);
      if (max < min) fail(`${field}.max`, `must not be below ${field}.min`, o.max);
      return { kind: "uniform", min, max };
    }
    case "exponential":
      knownKeys(o, field, ["distribution", "mean"]);
      return { kind: "exponential", mean: duration(o.mean, `${field}.mean`, true) };
    case "lognormal": {
      knownKeys(o, field, ["distribution", "median", "p95"]);
      const median = duration(o.median, `${field}.median`, true);
      const p95 = duration(o.p95, `${field}.p95`, true);
      if (p95 < median) fail(`${field}.p95`, `must not be below ${field}.median`, o.p95);
      return { kind: "lognormal", median, p95 };
    }
    default:
      return fail(
        `${field}.distribution`,
        "must be one of fixed, uniform, exponential, lognormal",
        o.distribution,
      );
  }
}

const TOP = [
  "name",
  "description",
  "duration",
  "seed",
  "arrivals",
  "lifetime",
  "models",
  "replicas",
  "labelGroups",
  "catalog",
  "quota",
  "zones",
  "provisioning",
  "idleTimeout",
  "sampleEvery",
] as const;

/** Parses and validates scenario YAML; a problem is a UserError naming the field. */
export function parseScenario(text: string, file = "scenario"): Scenario {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0]!.replace(/[.:]$/, "") : String(e);
    throw new UserError(`${file} is not valid YAML: ${msg}.`);
  }
  if (!isObj(raw)) throw new UserError(`${file} must be a YAML mapping of scenario fields.`);
  return validateScenario(raw);
}

export function validateScenario(raw: Obj): Scenario {
  knownKeys(raw, "", TOP);
  const durationMs = duration(raw.duration, "duration", true);
  const seed = raw.seed === undefined ? 1 : count(raw.seed, "seed", 0);

  const arrivalsRaw = obj(raw.arrivals, "arrivals");
  knownKeys(arrivalsRaw, "arrivals", ["rate", "count", "bursts"]);
  if (arrivalsRaw.rate !== undefined && arrivalsRaw.count !== undefined)
    throw new UserError("arrivals takes either rate (per hour) or count, not both.");
  const rate = arrivalsRaw.rate === undefined ? undefined : positive(arrivalsRaw.rate, "arrivals.rate");
  const arrivalCount =
    arrivalsRaw.count === undefined ? undefined : count(arrivalsRaw.count, "arrivals.count");
  const burstsRaw = arrivalsRaw.bursts ?? [];
  if (!Array.isArray(burstsRaw)) fail("arrivals.bursts", "must be a list", burstsRaw);
  const bursts = burstsRaw.map((b: unknown, i: number): Burst => {
    const f = `arrivals.bursts[${i}]`;
    const o = obj(b, f);
    knownKeys(o, f, ["at", "count", "within"]);
    const at = duration(o.at, `${f}.at`);
    if (at >= durationMs) fail(`${f}.at`, "must fall before the end of the scenario (duration)", o.at);
    return {
      at,
      count: count(o.count, `${f}.count`),
      within: o.within === undefined ? 0 : duration(o.within, `${f}.within`),
    };
  });
  if (rate === undefined && arrivalCount === undefined && bursts.length === 0)
    throw new UserError("arrivals needs a rate (per hour), a count or bursts.");

  const lifetime = parseDistribution(raw.lifetime, "lifetime");

  const models = modelEntries(raw.models).map(([name, weight, instanceType]): ModelChoice => {
    const preset = getPreset(name);
    if (!preset) {
      throw new UserError(
        `models.${name} is not a preset; \`npm run kaito -- presets\` lists them (e.g. ${listPresets()
          .slice(0, 3)
          .map((p) => p.name)
          .join(", ")}).`,
      );
    }
    const req = inferenceRequirement(preset);
    return {
      preset: preset.name,
      weight,
      totalGpuMemoryGiB: req.totalGpuMemoryGiB,
      minGpuMemoryGiB: req.minGpuMemoryGiB,
      ...(instanceType !== undefined ? { instanceType } : {}),
    };
  });

  const replicas =
    raw.replicas === undefined
      ? [{ value: 1, weight: 1 }]
      : weights(raw.replicas, "replicas").map(([k, weight]) => {
          const value = Number(k);
          if (!Number.isInteger(value) || value < 1)
            fail(`replicas.${k}`, "must be keyed by a positive whole replica count", k);
          return { value, weight };
        });

  const groupsRaw = raw.labelGroups ?? [{ name: "default", labels: {} }];
  if (!Array.isArray(groupsRaw) || groupsRaw.length === 0)
    fail("labelGroups", "must be a non-empty list", groupsRaw);
  const labelGroups = groupsRaw.map((g: unknown, i: number): LabelGroup => {
    const f = `labelGroups[${i}]`;
    const o = obj(g, f);
    knownKeys(o, f, ["name", "weight", "labels", "zone"]);
    if (typeof o.name !== "string" || o.name === "") fail(`${f}.name`, "must be a non-empty string", o.name);
    const labels = obj(o.labels, `${f}.labels`);
    for (const [k, v] of Object.entries(labels))
      if (typeof v !== "string") fail(`${f}.labels.${k}`, "must be a string", v);
    const zone = o.zone === undefined ? undefined : String(o.zone);
    return {
      name: o.name,
      weight: o.weight === undefined ? 1 : positive(o.weight, `${f}.weight`),
      labels: labels as Record<string, string>,
      ...(zone !== undefined ? { zone } : {}),
    };
  });

  const catalogRaw = obj(raw.catalog, "catalog");
  knownKeys(catalogRaw, "catalog", ["skus", "prices"]);
  const embedded = toCatalogEntries();
  let catalog = embedded.map((s) => ({ ...s }));
  const byName = (n: string, field: string) => {
    const s = catalog.find((c) => c.name.toLowerCase() === n.toLowerCase());
    if (!s) fail(field, "must name a SKU of the embedded catalogue", n);
    return s;
  };
  if (catalogRaw.skus !== undefined) {
    if (!Array.isArray(catalogRaw.skus) || catalogRaw.skus.length === 0)
      fail("catalog.skus", "must be a non-empty list of SKU names", catalogRaw.skus);
    const keep = catalogRaw.skus.map((n: unknown, i: number) => byName(String(n), `catalog.skus[${i}]`));
    catalog = catalog.filter((s) => keep.includes(s));
  }
  for (const [n, p] of Object.entries(obj(catalogRaw.prices, "catalog.prices"))) {
    byName(n, `catalog.prices.${n}`).pricePerHour = positive(p, `catalog.prices.${n}`);
  }

  for (const m of models) {
    if (m.instanceType === undefined) continue;
    const field = `models.${m.preset}.instanceType`;
    const sku = catalog.find((c) => c.name.toLowerCase() === m.instanceType!.toLowerCase());
    if (!sku) fail(field, "must name a SKU of the scenario's catalogue", m.instanceType);
    m.instanceType = sku.name;
    const demand = {
      ...m,
      name: m.preset,
      replicas: 1,
      labels: {},
      maxNodesPerReplica: MAX_NODES_PER_REPLICA,
    };
    if (shapeOn(demand, sku).kind === "ineligible")
      fail(
        field,
        `must be a size that can hold ${m.preset} (${m.totalGpuMemoryGiB} GiB of GPU memory)`,
        sku.name,
      );
  }

  const families = new Set(embedded.map((s) => s.family.toLowerCase()));
  const quota: Record<string, number> = {};
  for (const [fam, v] of Object.entries(obj(raw.quota, "quota"))) {
    if (!families.has(fam.toLowerCase()))
      fail(`quota.${fam}`, "must name a vCPU family of the catalogue", fam);
    const canonical = embedded.find((s) => s.family.toLowerCase() === fam.toLowerCase())!.family;
    quota[canonical] = count(v, `quota.${fam}`, 0);
  }

  const zones: Record<string, string[]> = {};
  for (const [n, list] of Object.entries(obj(raw.zones, "zones"))) {
    const sku = byName(n, `zones.${n}`);
    if (!Array.isArray(list)) fail(`zones.${n}`, "must be a list of zone names", list);
    zones[sku.name] = list.map(String);
  }

  const prov = obj(raw.provisioning, "provisioning");
  knownKeys(prov, "provisioning", ["delay", "perSku", "failureRate", "maxRetries", "retryBackoff"]);
  const perSku: Record<string, Distribution> = {};
  for (const [n, d] of Object.entries(obj(prov.perSku, "provisioning.perSku"))) {
    perSku[byName(n, `provisioning.perSku.${n}`).name] = parseDistribution(d, `provisioning.perSku.${n}`);
  }
  const failureRate =
    prov.failureRate === undefined ? 0 : nonNegative(prov.failureRate, "provisioning.failureRate");
  if (failureRate >= 1) fail("provisioning.failureRate", "must be below 1", failureRate);

  const name = raw.name === undefined ? "scenario" : String(raw.name);
  return {
    name,
    description: raw.description === undefined ? "" : String(raw.description),
    duration: durationMs,
    seed,
    arrivals: {
      ...(rate !== undefined ? { rate } : {}),
      ...(arrivalCount !== undefined ? { count: arrivalCount } : {}),
      bursts,
    },
    lifetime,
    models,
    replicas,
    labelGroups,
    catalog,
    quota,
    zones,
    provisioning: {
      delay:
        prov.delay === undefined
          ? { kind: "uniform", min: 240_000, max: 600_000 }
          : parseDistribution(prov.delay, "provisioning.delay"),
      perSku,
      failureRate,
      maxRetries: prov.maxRetries === undefined ? 2 : count(prov.maxRetries, "provisioning.maxRetries", 0),
      retryBackoff:
        prov.retryBackoff === undefined ? 60_000 : duration(prov.retryBackoff, "provisioning.retryBackoff"),
    },
    idleTimeout: raw.idleTimeout === undefined ? 0 : duration(raw.idleTimeout, "idleTimeout"),
    sampleEvery:
      raw.sampleEvery === undefined
        ? Math.max(60_000, durationMs / 500)
        : duration(raw.sampleEvery, "sampleEvery", true),
  };
}
