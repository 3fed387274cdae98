import { inferenceRequirement, mustGetPreset } from "../../presets/index.ts";
import { seededRandom } from "../../lib/random.ts";
import { shapeOn } from "../packing/rules.ts";
import type { Demand, ExistingNode, Labels, Problem, SkuSpec } from "../packing/types.ts";

/**
 * Fleets shaped like real KAITO use. Almost every Workspace in the KAITO examples carries a
 * labelSelector of its own (`apps: phi-3`, `apps: llama-3`, ...), and the operator puts those
 * labels on the nodes it creates, so most nodes can only ever hold their own workspace; a few
 * teams share one label for several workspaces. The generator draws:
 * - a share `ownShare` of workspaces (0.5 to 0.95 in the benchmark) with a selector of their
 *   own, the rest in teams sharing `team: <name>`, team sizes from 2 to 40, most small;
 * - the model from the KAITO presets, sized by presets/' memory model (so minimum per-GPU
 *   memory comes with it), with small models most common;
 * - replicas: mostly 1, some 2-4 (KAITO's count);
 * - a fifth naming an instance type from the KAITO docs that holds the model on one node;
 * - existing GPU nodes with free GPUs: nodes of earlier replicas of about one workspace in six,
 *   carrying that workspace's labels, and a few bring-your-own nodes labelled for a team and an
 *   app at once (so they link two label groups);
 * - vCPU quotas on the A100, H100 and T4 families that bind: each gets a quarter more than
 *   what the demands that can use nothing else need, plus a little, so the rest must spill over.
 */
export interface FleetOptions {
  seed?: number;
  /** Share of workspaces with a labelSelector of their own (default 0.8). */
  ownShare?: number;
}

export interface GeneratedFleet {
  problem: Problem;
  /** Distinct label sets among the demands. */
  labelGroups: number;
  ownShare: number;
}

/** Presets by how often a fleet runs them: small chat and code models dominate. */
const MODEL_MIX: { preset: string; weight: number; maxNodes?: number }[] = [
  { preset: "phi-3-mini-4k-instruct", weight: 10 },
  { preset: "phi-3.5-mini-instruct", weight: 6 },
  { preset: "phi-4-mini-instruct", weight: 6 },
  { preset: "phi-2", weight: 3 },
  { preset: "mistral-7b-instruct", weight: 10 },
  { preset: "qwen2.5-coder-7b-instruct", weight: 8 },
  { preset: "llama-3.1-8b-instruct", weight: 14 },
  { preset: "deepseek-r1-distill-llama-8b", weight: 5 },
  { preset: "falcon-7b-instruct", weight: 3 },
  { preset: "phi-4", weight: 6 },
  { preset: "deepseek-r1-distill-qwen-14b", weight: 5 },
  { preset: "phi-3-medium-128k-instruct", weight: 4 },
  { preset: "qwen2.5-coder-32b-instruct", weight: 4 },
  { preset: "falcon-40b-instruct", weight: 1, maxNodes: 2 },
  { preset: "llama-3.3-70b-instruct", weight: 4, maxNodes: 2 },
];

/** Instance types the KAITO docs put in `resource.instanceType`. */
const DOC_INSTANCE_TYPES = [
  "Standard_NC24ads_A100_v4",
  "Standard_NC48ads_A100_v4",
  "Standard_NC96ads_A100_v4",
  "Standard_NV36ads_A10_v5",
  "Standard_NC64as_T4_v3",
];

/** Families whose quota the generator limits (by catalogue family name). */
const LIMITED = /NCADSA100v4|NCadsH100v5|NDAMSv4|NCASv3_T4/i;

export function generateFleet(
  workspaces: number,
  catalog: readonly SkuSpec[],
  options: FleetOptions = {},
): GeneratedFleet {
  const seed = options.seed ?? 1;
  const ownShare = options.ownShare ?? 0.8;
  const rand = seededRandom(seed * 104_729 + workspaces * 31 + Math.round(ownShare * 1000));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const sizes = MODEL_MIX.map((m) => {
    const r = inferenceRequirement(mustGetPreset(m.preset));
    return { ...m, total: r.totalGpuMemoryGiB, min: r.minGpuMemoryGiB };
  });
  const totalWeight = sizes.reduce((s, m) => s + m.weight, 0);
  const model = () => {
    let r = rand() * totalWeight;
    for (const m of sizes) if ((r -= m.weight) < 0) return m;
    return sizes[0]!;
  };
  const known = new Map(catalog.map((s) => [s.name, s]));
  const docTypes = DOC_INSTANCE_TYPES.filter((t) => known.has(t));

  // Teams: sizes 2..40, geometric-like (half of the teams have 2-4 workspaces).
  const teamOf: (number | undefined)[] = [];
  let teams = 0;
  let left = 0;
  for (let i = 0; i < workspaces; i++) {
    if (rand() < ownShare) {
      teamOf.push(undefined);
      continue;
    }
    if (left === 0) {
      teams++;
      left = Math.min(40, 1 + Math.ceil(-Math.log(1 - rand()) * 5));
    }
    teamOf.push(teams - 1);
    left--;
  }

  const demands: Demand[] = [];
  for (let i = 0; i < workspaces; i++) {
    const m = model();
    const u = rand();
    const replicas = u < 0.7 ? 1 : u < 0.85 ? 2 : u < 0.95 ? 3 : 4;
    const name = `ws-${i}-${m.preset}`;
    const team = teamOf[i];
    const labels: Labels = team === undefined ? { apps: name } : { team: `team-${team}` };
    const d: Demand = {
      name,
      replicas,
      totalGpuMemoryGiB: m.total,
      minGpuMemoryGiB: m.min,
      labels,
      maxNodesPerReplica: m.maxNodes ?? 1,
    };
    const fitting = docTypes.filter((t) => shapeOn(d, known.get(t)!).kind === "single");
    if (rand() < 0.2 && fitting.length > 0) d.skus = [pick(fitting)];
    demands.push(d);
  }

  // Existing nodes. Earlier replicas of about one workspace in six left a multi-GPU node of a
  // size that fits the model, partly used, with the workspace's labels; a few bring-your-own
  // nodes carry a team's label and an app's.
  const nodes: ExistingNode[] = [];
  const multi = catalog.filter((s) => s.gpus >= 2);
  for (const d of demands) {
    if (rand() >= 1 / 6) continue;
    const fits = multi.filter((s) => shapeOn(d, s).kind === "single");
    if (fits.length === 0) continue;
    const sku = pick(fits);
    nodes.push({
      name: `node-${nodes.length}`,
      sku: sku.name,
      labels: { ...d.labels },
      freeGpus: 1 + Math.floor(rand() * (sku.gpus - 1)),
    });
  }
  for (let i = 0; i < Math.ceil(teams / 10); i++) {
    const sku = pick(multi);
    const app = demands[Math.floor(rand() * demands.length)]!;
    nodes.push({
      name: `byo-${i}`,
      sku: sku.name,
      labels: { team: `team-${Math.floor(rand() * Math.max(1, teams))}`, ...app.labels },
      freeGpus: Math.floor(rand() * (sku.gpus + 1)),
    });
  }

  const quota = bindingQuotas(demands, catalog, workspaces);
  const labelGroups = new Set(demands.map((d) => JSON.stringify(d.labels))).size;
  return { problem: { catalog, quota, nodes, demands }, labelGroups, ownShare };
}

/**
 * A quarter more than the demands that have no other family need (each on nodes of its own,
 * as a workspace with its own labels must be), plus one large node per hundred workspaces:
 * enough to place everything, too little for every demand to take its cheapest size there.
 */
function bindingQuotas(
  demands: readonly Demand[],
  catalog: readonly SkuSpec[],
  workspaces: number,
): Record<string, number> {
  const quota: Record<string, number> = {};
  const families = [...new Set(catalog.map((s) => s.family))].filter((f) => LIMITED.test(f));
  for (const family of families) {
    let forced = 0;
    for (const d of demands) {
      const options = catalog.flatMap((sku) => {
        const shape = shapeOn(d, sku);
        return shape.kind === "ineligible" ? [] : [{ sku, gpus: shape.gpus }];
      });
      if (options.length === 0 || options.some((o) => o.sku.family !== family)) continue;
      const perNode = (o: { sku: SkuSpec; gpus: number }) => Math.max(1, Math.floor(o.sku.gpus / o.gpus));
      forced += Math.min(
        ...options.map(
          (o) => Math.ceil(d.replicas / perNode(o)) * o.sku.vcpus * Math.max(1, o.gpus / o.sku.gpus),
        ),
      );
    }
    quota[family] = 96 * Math.ceil((forced * 1.25) / 96 + workspaces / 100);
  }
  return quota;
}
