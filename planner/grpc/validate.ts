import type { Demand, ExistingNode, Labels, Problem, SkuSpec } from "../packing/types.ts";
import { PlannerError } from "./errors.ts";
import { MAX_CATALOG, MAX_DEMANDS, MAX_NODES } from "./limits.ts";
import type { DemandInput, ProblemInput } from "./types.ts";

/**
 * Checks a problem that crossed a trust boundary and fills in the defaults of the problem
 * file format. Throws an InvalidArgument PlannerError whose message is one sentence naming the
 * field to fix. `defaultCatalog` stands in for an absent or empty catalog.
 */
export function checkProblem(input: ProblemInput, defaultCatalog: readonly SkuSpec[]): Problem {
  if (typeof input !== "object" || input === null) throw invalid("the problem must be an object");
  tooMany(input.demands?.length ?? 0, MAX_DEMANDS, "demands");
  tooMany(input.nodes?.length ?? 0, MAX_NODES, "existing nodes");
  tooMany(input.catalog?.length ?? 0, MAX_CATALOG, "catalog entries");
  const catalog =
    input.catalog && input.catalog.length > 0 ? input.catalog.map(checkSku) : [...defaultCatalog];
  unique(
    catalog.map((s) => s.name),
    "catalog SKU",
  );
  const skuNames = new Map(catalog.map((s) => [s.name.toLowerCase(), s]));

  const quota: Record<string, number> = {};
  for (const [family, headroom] of Object.entries(input.quota ?? {})) {
    if (!isCount(headroom))
      throw invalid(
        `quota of family "${family}" must be a whole number of vCPUs, 0 or more (got ${headroom})`,
      );
    quota[family] = headroom;
  }

  const nodes: ExistingNode[] = (input.nodes ?? []).map((n, i) => {
    const name = text(n?.name, `node ${i + 1} needs a name`);
    const sku = skuNames.get(text(n.sku, `node "${name}" needs a sku`).toLowerCase());
    if (!sku) throw invalid(`node "${name}" has SKU "${n.sku}", which is not in the catalog`);
    if (!isCount(n.freeGpus) || n.freeGpus > sku.gpus) {
      throw invalid(`node "${name}" must have between 0 and ${sku.gpus} free GPUs (got ${n.freeGpus})`);
    }
    return { name, sku: sku.name, labels: labels(n.labels, `node "${name}"`), freeGpus: n.freeGpus };
  });
  unique(
    nodes.map((n) => n.name),
    "node",
  );

  if (!Array.isArray(input.demands)) throw invalid("the problem needs a demands list");
  const demands: Demand[] = input.demands.map((d: DemandInput, i: number) => {
    const name = text(d?.name, `demand ${i + 1} needs a name`);
    const where = `demand "${name}"`;
    if (!isCount(d.replicas))
      throw invalid(`${where} needs a whole number of replicas, 0 or more (got ${d.replicas})`);
    if (!isPositive(d.totalGpuMemoryGiB)) {
      throw invalid(`${where} needs totalGpuMemoryGiB above 0 (got ${d.totalGpuMemoryGiB})`);
    }
    const minGpuMemoryGiB = d.minGpuMemoryGiB ?? 0;
    if (!Number.isFinite(minGpuMemoryGiB) || minGpuMemoryGiB < 0) {
      throw invalid(`${where} needs minGpuMemoryGiB of 0 or more (got ${d.minGpuMemoryGiB})`);
    }
    const maxNodesPerReplica = d.maxNodesPerReplica ?? 1;
    if (!isCount(maxNodesPerReplica) || maxNodesPerReplica < 1) {
      throw invalid(`${where} needs maxNodesPerReplica of 1 or more (got ${d.maxNodesPerReplica})`);
    }
    const demand: Demand = {
      name,
      replicas: d.replicas,
      totalGpuMemoryGiB: d.totalGpuMemoryGiB,
      minGpuMemoryGiB,
      labels: labels(d.labels, where),
      maxNodesPerReplica,
    };
    if (d.skus && d.skus.length > 0) {
      demand.skus = d.skus.map((s) => {
        const sku = skuNames.get(String(s).toLowerCase());
        if (!sku) throw invalid(`${where} lists SKU "${s}", which is not in the catalog`);
        return sku.name;
      });
    }
    return demand;
  });
  unique(
    demands.map((d) => d.name),
    "demand",
  );

  return { catalog, quota, nodes, demands };
}

function tooMany(count: number, most: number, what: string): void {
  if (count > most) {
    throw invalid(
      `the problem has ${count.toLocaleString("en-US")} ${what}, more than the ${most.toLocaleString("en-US")} one plan takes; split it into several problems`,
    );
  }
}

function checkSku(s: SkuSpec, i: number): SkuSpec {
  const name = text(s?.name, `catalog entry ${i + 1} needs a name`);
  const where = `catalog SKU "${name}"`;
  if (!isCount(s.gpus) || s.gpus < 1)
    throw invalid(`${where} needs a whole number of GPUs, 1 or more (got ${s.gpus})`);
  if (!isPositive(s.gpuMemoryGiB))
    throw invalid(`${where} needs gpuMemoryGiB above 0 (got ${s.gpuMemoryGiB})`);
  if (!isCount(s.vcpus) || s.vcpus < 1)
    throw invalid(`${where} needs a whole number of vCPUs, 1 or more (got ${s.vcpus})`);
  const family = text(s.family, `${where} needs a family`);
  if (!Number.isFinite(s.pricePerHour) || s.pricePerHour < 0) {
    throw invalid(`${where} needs pricePerHour of 0 or more (got ${s.pricePerHour})`);
  }
  return {
    name,
    gpus: s.gpus,
    gpuMemoryGiB: s.gpuMemoryGiB,
    vcpus: s.vcpus,
    family,
    pricePerHour: s.pricePerHour,
  };
}

function labels(value: Labels | undefined, where: string): Labels {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value ?? {})) {
    if (typeof v !== "string") throw invalid(`${where} has label "${k}" whose value is not a string`);
    out[k] = v;
  }
  return out;
}

function unique(names: string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    const key = n.toLowerCase();
    if (seen.has(key)) throw invalid(`${what} "${n}" appears twice`);
    seen.add(key);
  }
}

function text(value: unknown, message: string): string {
  if (typeof value !== "string" || value.trim() === "") throw invalid(message);
  return value;
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function isPositive(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

function invalid(sentence: string): PlannerError {
  return new PlannerError("InvalidArgument", `${sentence}.`);
}
