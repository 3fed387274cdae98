import { shapeOn } from "../packing/rules.ts";
import type { Demand, ExistingNode, Labels, Problem, SkuSpec } from "../packing/types.ts";

export { seededRandom as prng } from "../../lib/random.ts";
import { seededRandom as prng } from "../../lib/random.ts";

/**
 * Per-replica GPU memory of common KAITO presets served by vLLM (fp16 weights, KV cache for the
 * default context, runtime overhead), with how often each shows up in a fleet. Small models
 * dominate; a few 70B-class models need several GPUs.
 */
const MODELS: { name: string; gib: number; weight: number; maxNodes?: number }[] = [
  { name: "phi-2", gib: 7.5, weight: 6 },
  { name: "phi-3-mini-4k", gib: 10, weight: 8 },
  { name: "phi-3.5-mini", gib: 13.5, weight: 6 },
  { name: "falcon-7b", gib: 17.5, weight: 5 },
  { name: "mistral-7b", gib: 18.5, weight: 10 },
  { name: "qwen2.5-coder-7b", gib: 19.5, weight: 8 },
  { name: "llama-3.1-8b", gib: 21, weight: 14 },
  { name: "phi-4", gib: 34, weight: 6 },
  { name: "deepseek-r1-distill-qwen-14b", gib: 36, weight: 6 },
  { name: "phi-3-medium-128k", gib: 39, weight: 4 },
  { name: "qwen2.5-32b", gib: 76, weight: 4 },
  { name: "falcon-40b", gib: 95, weight: 2, maxNodes: 2 },
  { name: "llama-3.3-70b", gib: 152, weight: 4, maxNodes: 2 },
];

/** Instance types that users copy from the KAITO docs into `resource.instanceType`. */
const GIVEN = [
  "Standard_NC24ads_A100_v4",
  "Standard_NC96ads_A100_v4",
  "Standard_NC48ads_A100_v4",
  "Standard_NV36ads_A10_v5",
];

export interface GeneratedProblem {
  problem: Problem;
  /** For the report: how many distinct label sets the demands carry. */
  labelGroups: number;
}

/**
 * A mixed fleet of `workspaces` demands: preset model sizes, 1-4 replicas (sometimes 8), team
 * labels (a few teams per ten workspaces, at most 24, some demands unlabelled), a share with a
 * given instance type or a minimum per-GPU memory, existing partly used nodes, and vCPU quotas
 * on the A100/H100 families that bind.
 */
export function generateProblem(workspaces: number, catalog: readonly SkuSpec[], seed = 1): GeneratedProblem {
  const rand = prng(seed * 7919 + workspaces);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const totalWeight = MODELS.reduce((s, m) => s + m.weight, 0);
  const model = () => {
    let r = rand() * totalWeight;
    for (const m of MODELS) if ((r -= m.weight) < 0) return m;
    return MODELS[0]!;
  };
  const teams = Math.max(2, Math.min(24, Math.round(workspaces / 10)));
  const known = new Set(catalog.map((s) => s.name));
  const given = GIVEN.filter((g) => known.has(g));

  const demands: Demand[] = [];
  for (let i = 0; i < workspaces; i++) {
    const m = model();
    const u = rand();
    const replicas = u < 0.45 ? 1 : u < 0.7 ? 2 : u < 0.85 ? 3 : u < 0.95 ? 4 : 8;
    const labels: Labels = rand() < 0.3 ? {} : { "kaito.sh/team": `team-${Math.floor(rand() * teams)}` };
    const d: Demand = {
      name: `ws-${i}-${m.name}`,
      replicas,
      totalGpuMemoryGiB: m.gib,
      minGpuMemoryGiB: rand() < 0.1 ? 40 : 0,
      labels,
      maxNodesPerReplica: m.maxNodes ?? 1,
    };
    // A fifth name an instance type, one that fits a replica on one node, as the docs do.
    const fitting = given.filter(
      (g) =>
        shapeOn(
          d,
          catalog.find((s) => s.name === g)!,
        ).kind === "single",
    );
    if (rand() < 0.2 && fitting.length > 0) d.skus = [pick(fitting)];
    demands.push(d);
  }

  // Existing nodes: about one per eight workspaces, on multi-GPU sizes, partly used.
  const big = catalog.filter((s) => s.gpus >= 2);
  const nodes: ExistingNode[] = [];
  for (let i = 0; i < Math.ceil(workspaces / 8) && big.length > 0; i++) {
    const sku = pick(big);
    nodes.push({
      name: `node-${i}`,
      sku: sku.name,
      labels: rand() < 0.5 ? {} : { "kaito.sh/team": `team-${Math.floor(rand() * teams)}`, zone: "1" },
      freeGpus: Math.floor(rand() * (sku.gpus + 1)),
    });
  }

  // Quotas: the A100 80 GB and H100 families get a quarter more than the demands that can use
  // nothing else need, so they bind and the rest of the fleet must spill onto other families.
  const quota: Record<string, number> = {};
  const limited = [...new Set(catalog.map((s) => s.family))].filter((f) =>
    /NCADSA100v4|NCadsH100v5|NDAMSv4/i.test(f),
  );
  for (const family of limited) {
    let forced = 0;
    for (const d of demands) {
      const options = catalog.flatMap((sku) => {
        const shape = shapeOn(d, sku);
        return shape.kind === "ineligible" ? [] : [{ sku, gpus: shape.gpus }];
      });
      if (options.length === 0 || options.some((o) => o.sku.family !== family)) continue;
      forced += d.replicas * Math.min(...options.map((o) => (o.sku.vcpus * o.gpus) / o.sku.gpus));
    }
    quota[family] = 96 * Math.ceil((forced * 1.25) / 96 + workspaces / 100);
  }
  const labelGroups = new Set(demands.map((d) => JSON.stringify(d.labels))).size;
  return { problem: { catalog, quota, nodes, demands }, labelGroups };
}
