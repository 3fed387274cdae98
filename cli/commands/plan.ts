import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { errorMessage, UserError } from "../../lib/errors.ts";
import { inferenceSetKind, type InferenceSet, type Workspace } from "../../crds/index.ts";
import { workspaceApiVersions, workspaceKind } from "../../crds/workspace/constants.ts";
import { getPreset, isHuggingFaceModelId, type Preset } from "../../presets/index.ts";
import { CliModels, huggingFaceOptions, huggingFaceUsage } from "./huggingface.ts";
import { nodeLabelsFor } from "../../controller/workspace/machines.ts";
import { modelNeed } from "../../controller/workspace/requirement.ts";
import { loadCatalog, toCatalogEntries } from "../../planner/catalog/index.ts";
import {
  DEFAULT_TIME_LIMIT_MS,
  parseProblem,
  shapeOn,
  solve,
  type Demand,
  type NewNode,
  type Placement,
  type Plan,
  type Problem,
  type SkuSpec,
  type Unplaced,
} from "../../planner/packing/index.ts";
import { MAX_NODES_PER_REPLICA, placeWorkloads, type Workload } from "../../planner/placement/index.ts";
import { findSku } from "../../planner/catalog/index.ts";
import { placeOnInstanceType, workloadOf } from "../../controller/workspace/placement.ts";
import { formatTable, outputFormat } from "./presets.ts";

const usage = `Usage: npm run kaito -- plan (--problem FILE | -f MANIFEST.yaml [-f ...] [--region R]) [options]

Finds the cheapest GPU nodes for a set of workloads, solved as an integer program (GLPK), and
says how far from optimal the plan can be at most (its lower bound and gap).

Input:
  --problem FILE        a planning problem, YAML or JSON: catalog (default: the embedded Azure
                        GPU snapshot), quota, nodes, demands
  -f, --filename FILE   Workspace and InferenceSet manifests (kaito.sh/v1alpha1 or v1beta1;
                        several -f, or several documents per file): one demand per Workspace or
                        InferenceSet, sized by its preset's memory model, or by the config.json of
                        the Hugging Face model it names
  --region R            Azure region the Workspaces are meant for; prices stay the snapshot's
${huggingFaceUsage}

Solver:
  --time-limit MS       stop and return the best plan found after this long (default: ${DEFAULT_TIME_LIMIT_MS})
  --gap G               stop once the plan is within this fraction of optimal (default: 0)

Output:
  -o, --output FORMAT   table (default) or json (DESIGN.md's plan format, plus gap and status)
  -h, --help            show this help
`;

export const planCommand: Command = {
  name: "plan",
  summary: "plan the cheapest GPU nodes for a problem file or Workspace manifests",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      {
        problem: { type: "string" },
        filename: { type: "string", short: "f", multiple: true },
        region: { type: "string" },
        "time-limit": { type: "string" },
        gap: { type: "string" },
        output: { type: "string", short: "o" },
        ...huggingFaceOptions,
      },
      "plan",
    );
    const format = outputFormat(values.output, "plan");
    const files = values.filename ?? [];
    if ((values.problem === undefined) === (files.length === 0)) {
      throw new UserError(
        "give either --problem FILE or -f WORKSPACE.yaml; run `npm run kaito -- plan --help`.",
      );
    }
    if (values.region !== undefined && values.problem !== undefined) {
      throw new UserError("--region goes with -f WORKSPACE.yaml; a problem file carries its own catalog.");
    }
    const timeLimitMs =
      numberFlag(values["time-limit"], "--time-limit", 1, Infinity) ?? DEFAULT_TIME_LIMIT_MS;
    const mipGap = numberFlag(values.gap, "--gap", 0, 1) ?? 0;

    const catalog = toCatalogEntries();
    let problem: Problem;
    let plan: Plan;
    if (values.problem !== undefined) {
      problem = parseProblem(await readText(values.problem, io.cwd), { defaultCatalog: catalog });
      plan = await solve(problem, { timeLimitMs, mipGap });
    } else {
      const workspaces: PlannedWorkspace[] = [];
      for (const f of files) workspaces.push(...parseWorkspaces(await readText(f, io.cwd), f));
      const retired = toCatalogEntries(loadCatalog(), { includeRetired: true }).filter(
        (s) => !catalog.some((c) => c.name === s.name),
      );
      const models = await huggingFaceModels(workspaces, new CliModels(values, io), io.signal);
      const built = workspaceProblem(workspaces, catalog, retired, models);
      problem = built.problem;
      for (const w of built.warnings) io.stderr.write(`kaito plan: ${w}\n`);
      plan = await placeManifests(workspaces, problem, { timeLimitMs, mipGap }, models);
      const snapshotRegion = loadCatalog().skus[0]?.priceRegion;
      if (values.region !== undefined && values.region.toLowerCase() !== snapshotRegion) {
        io.stderr.write(
          `kaito plan: prices are the embedded snapshot's for ${snapshotRegion}, not ${values.region}.\n`,
        );
      }
    }

    io.stdout.write(format === "json" ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(problem, plan));
    return 0;
  },
};

function numberFlag(raw: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UserError(`${flag} must be a number from ${min} to ${max}, got "${raw}".`);
  }
  return n;
}

async function readText(path: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : errorMessage(e)}.`);
  }
}

/**
 * A Workspace to plan; `replicas` is set for an InferenceSet's template, whose replicas each run
 * one copy of it (a Workspace's own count means nodes when it names an instance type).
 */
export type PlannedWorkspace = Workspace & { replicas?: number };

/** The Workspace each replica of an InferenceSet is, with the set's replica count. */
function fromInferenceSet(set: InferenceSet, where: string): PlannedWorkspace {
  const name = set.metadata?.name;
  if (!name) throw new UserError(`${where} has no metadata.name.`);
  if (!set.spec?.labelSelector) throw new UserError(`${where} (${name}) has no spec.labelSelector.`);
  if (!set.spec.template?.inference)
    throw new UserError(`${where} (${name}) has no spec.template.inference.`);
  const t = set.spec.template;
  return {
    apiVersion: set.apiVersion,
    kind: workspaceKind,
    metadata: { namespace: "default", ...set.metadata },
    resource: {
      ...(t.resource?.instanceType ? { instanceType: t.resource.instanceType } : {}),
      labelSelector: set.spec.labelSelector,
    },
    inference: t.inference,
    replicas: set.spec.replicas ?? 1,
  };
}

/** Every Workspace and InferenceSet in a multi-document YAML file; anything else is an error. */
export function parseWorkspaces(text: string, file: string): PlannedWorkspace[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new UserError(`${file} is not YAML.`);
  const out: PlannedWorkspace[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      throw new UserError(
        `${file} is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]!.replace(/[.:]$/, "")}.`,
      );
    }
    const obj = doc.toJS() as Partial<Workspace> & { apiVersion?: string; kind?: string };
    if (obj === null || obj === undefined) return;
    const where = `${file} document ${i + 1}`;
    if (
      (obj.kind !== workspaceKind && obj.kind !== inferenceSetKind) ||
      !workspaceApiVersions.includes(obj.apiVersion ?? "")
    ) {
      throw new UserError(
        `${where} is a ${obj.kind ?? "document without kind"}, not a ${workspaceApiVersions.join(" or ")} Workspace or InferenceSet.`,
      );
    }
    if (obj.kind === inferenceSetKind) {
      out.push(fromInferenceSet(obj as unknown as InferenceSet, where));
      return;
    }
    if (!obj.metadata?.name) throw new UserError(`${where} has no metadata.name.`);
    if (!obj.resource?.labelSelector)
      throw new UserError(`${where} (${obj.metadata.name}) has no resource.labelSelector.`);
    if (!obj.inference === !obj.tuning) {
      throw new UserError(`${where} (${obj.metadata.name}) must have exactly one of inference and tuning.`);
    }
    out.push({ ...obj, metadata: { namespace: "default", ...obj.metadata } } as Workspace);
  });
  return out;
}

const presetNameOf = (ws: Workspace) => (ws.inference?.preset ?? ws.tuning?.preset)?.name?.trim() ?? "";

/** The presets of the Hugging Face models the Workspaces name, read from the Hub once each. */
async function huggingFaceModels(
  workspaces: readonly Workspace[],
  hub: CliModels,
  signal?: AbortSignal,
): Promise<Map<string, Preset>> {
  const ids = new Set<string>();
  for (const ws of workspaces) {
    const name = presetNameOf(ws);
    if (name && !getPreset(name) && isHuggingFaceModelId(name)) ids.add(name);
  }
  const out = new Map<string, Preset>();
  for (const id of ids) out.set(id, await hub.preset(id, signal));
  return out;
}

/**
 * One demand per Workspace (or InferenceSet), as the controller sizes it: the preset's memory
 * model, or a Hugging Face model's config.json (`models`, by id); `count` replicas on the
 * planner's choice of SKU, or `count` nodes of the named instance type; an InferenceSet's
 * replicas, each one Workspace.
 */
export function workspaceProblem(
  workspaces: PlannedWorkspace[],
  available: SkuSpec[],
  retired: SkuSpec[] = [],
  models: ReadonlyMap<string, Preset> = new Map(),
): { problem: Problem; warnings: string[] } {
  const catalog = [...available];
  const warnings: string[] = [];
  const seen = new Set<string>();
  const scaledToZero = workspaces.filter((ws) => ws.replicas === 0);
  for (const ws of scaledToZero)
    warnings.push(
      `InferenceSet ${ws.metadata!.namespace}/${ws.metadata!.name} has 0 replicas: nothing to plan for it.`,
    );
  const demands = workspaces
    .filter((ws) => ws.replicas !== 0)
    .map((ws): Demand => {
      const name = `${ws.metadata!.namespace}/${ws.metadata!.name}`;
      if (seen.has(name)) throw new UserError(`Workspace ${name} appears twice.`);
      seen.add(name);
      const need = modelNeed(ws, models.get(presetNameOf(ws)));
      if (need.kind !== "preset") {
        throw new UserError(
          `Workspace ${name} runs a custom inference.template, which has no model to size; plan it by hand.`,
        );
      }
      const count = ws.replicas ?? ws.resource.count ?? 1;
      const base: Demand = {
        name,
        replicas: count,
        totalGpuMemoryGiB: need.requirement.totalGpuMemoryGiB,
        minGpuMemoryGiB: need.requirement.minGpuMemoryGiB,
        labels: nodeLabelsFor(ws),
        maxNodesPerReplica: MAX_NODES_PER_REPLICA,
      };
      const type = ws.resource.instanceType;
      if (!type) return base;
      const same = (s: SkuSpec) => s.name.toLowerCase() === type.toLowerCase();
      let sku = catalog.find(same);
      const old = sku ? undefined : retired.find(same);
      if (old) {
        // The KAITO docs' examples still name retired sizes: plan with them, but say so.
        warnings.push(
          `Workspace ${name} asks for ${old.name}, which Azure has retired; planning with it anyway.`,
        );
        catalog.push(old);
        sku = old;
      }
      if (!sku) {
        throw new UserError(
          `Workspace ${name} asks for instance type ${type}, which the catalogue does not offer (retired or not a GPU size); leave it out to let the planner choose.`,
        );
      }
      // KAITO's count is nodes: one replica per node, or replicas spanning the nodes they need.
      // An InferenceSet's count is replicas, each on the nodes it needs.
      const shape = shapeOn({ ...base, skus: [sku.name] }, sku);
      const nodes = shape.kind === "multi" ? shape.nodes : 1;
      const replicas = ws.replicas ?? Math.max(1, Math.floor(count / nodes));
      return { ...base, skus: [sku.name], replicas };
    });
  return { problem: { catalog, quota: {}, nodes: [], demands }, warnings };
}

/**
 * What the cluster does with these manifests applied together (kubectl apply -f dir/): the
 * Workspaces that name an instance type get `count` nodes of it; the others are one batch, as
 * the controller plans Workspaces that arrive together, placed by kaito's placement policy
 * (planner/placement: one size per Workspace, a replica across nodes only when it must, nodes
 * shared by Workspaces with the same labels) on the catalogue, without quota or existing nodes.
 * The bound is the batch's first plan's: no placement of the batch costs less.
 */
export async function placeManifests(
  workspaces: readonly PlannedWorkspace[],
  problem: Problem,
  options: { timeLimitMs: number; mipGap: number },
  models: ReadonlyMap<string, Preset> = new Map(),
): Promise<Plan> {
  const started = performance.now();
  const skus = new Map(problem.catalog.map((s) => [s.name, s]));
  const auto: Workload[] = [];
  const newNodes: NewNode[] = [];
  const placements: Placement[] = [];
  const unplaced: Unplaced[] = [];
  let first: Plan | undefined;
  for (const ws of workspaces) {
    if (ws.replicas === 0) continue; // an InferenceSet scaled to zero: workspaceProblem said so
    const name = `${ws.metadata!.namespace}/${ws.metadata!.name}`;
    const need = modelNeed(ws, models.get(presetNameOf(ws)));
    if (need.kind !== "preset") continue; // workspaceProblem already refused these
    const type = ws.resource.instanceType;
    if (!type) {
      // An InferenceSet's replicas are Workspaces with its labels, planned in one batch.
      const w = workloadOf(ws, need.requirement, problem.catalog);
      auto.push(ws.replicas === undefined ? w : { ...w, replicas: ws.replicas });
      continue;
    }
    const sku = problem.catalog.find((s) => s.name.toLowerCase() === type.toLowerCase())!;
    const p = placeOnInstanceType(ws, need.requirement, findSku(sku.name), sku.name);
    // Each replica of an InferenceSet is a Workspace of count 1: one replica on the nodes it needs.
    const replicas = ws.replicas ?? p.replicas;
    for (let r = 0; r < replicas; r++) {
      for (let i = 0; i < p.nodesPerReplica; i++) {
        const node = `${ws.metadata!.name}-${sku.name.toLowerCase().replace(/_/g, "-")}-${newNodes.length + 1}`;
        newNodes.push({ name: node, sku: sku.name, labels: nodeLabelsFor(ws) });
        placements.push({ demand: name, replica: r, node, gpus: p.gpusPerPod });
      }
    }
  }
  const batch = await placeWorkloads(auto, { catalog: problem.catalog, quota: {}, nodes: [] }, async (q) => {
    const plan = await solve({ catalog: problem.catalog, ...q }, options);
    first ??= plan;
    return plan;
  });
  newNodes.push(...batch.newNodes);
  for (const o of batch.outcomes) {
    if ("failure" in o) {
      const w = auto.find((a) => a.name === o.workload)!;
      for (let r = 0; r < w.replicas; r++) {
        unplaced.push({
          demand: o.workload,
          replica: r,
          code: o.failure.code === "NoEligibleSku" ? "NoEligibleSku" : "QuotaExhausted",
          reason: o.failure.reason,
        });
      }
      continue;
    }
    o.placement.replicaNodes.forEach((nodes, replica) => {
      for (const node of nodes)
        placements.push({ demand: o.workload, replica, node, gpus: o.placement.gpusPerPod });
    });
  }
  const order = new Map(problem.demands.map((d, i) => [d.name, i]));
  const byDemand = (a: { demand: string; replica: number }, b: { demand: string; replica: number }) =>
    order.get(a.demand)! - order.get(b.demand)! || a.replica - b.replica;
  placements.sort(byDemand);
  unplaced.sort(byDemand);
  const costPerHour =
    Math.round(newNodes.reduce((sum, n) => sum + skus.get(n.sku)!.pricePerHour, 0) * 1e6) / 1e6;
  // The batch's first plan bounds what it can cost; the named sizes are what they are.
  const named = costPerHour - batch.costPerHour;
  const lowerBound = Math.min(costPerHour, (first?.lowerBound ?? 0) + named);
  const exact = first !== undefined && Math.abs(first.costPerHour - batch.costPerHour) < 1e-6;
  return {
    costPerHour,
    newNodes,
    placements,
    unplaced,
    lowerBound,
    solveMs: Math.round((performance.now() - started) * 1000) / 1000,
    gap: costPerHour > 0 ? (costPerHour - lowerBound) / costPerHour : 0,
    status: auto.length === 0 ? "baseline" : exact ? (first?.status ?? "optimal") : "heuristic",
  };
}

/** The table output: what to buy, where things go, what could not go anywhere and why. */
export function formatPlan(problem: Problem, plan: Plan): string {
  const price = new Map(problem.catalog.map((s) => [s.name, s.pricePerHour]));
  const lines: string[] = [];
  lines.push(
    `Plan: $${plan.costPerHour.toFixed(3)}/hour for ${plan.newNodes.length} new node${plan.newNodes.length === 1 ? "" : "s"}` +
      ` (${plan.status}; lower bound $${plan.lowerBound.toFixed(3)}/hour, gap ${(plan.gap * 100).toFixed(3)}%; solved in ${plan.solveMs.toFixed(0)} ms)`,
    "",
  );
  const bySku = new Map<string, number>();
  for (const n of plan.newNodes) bySku.set(n.sku, (bySku.get(n.sku) ?? 0) + 1);
  if (bySku.size > 0) {
    const rows = [["NEW NODES", "SKU", "$/HOUR EACH", "$/HOUR"]];
    for (const [sku, count] of [...bySku].sort((a, b) => price.get(b[0])! * b[1] - price.get(a[0])! * a[1])) {
      rows.push([String(count), sku, price.get(sku)!.toFixed(3), (count * price.get(sku)!).toFixed(3)]);
    }
    lines.push(formatTable(rows, new Set([0, 2, 3])));
  }
  const existing = new Set(problem.nodes.map((n) => n.name));
  const replicas = new Set(plan.placements.map((p) => `${p.demand}#${p.replica}`));
  const onExisting = new Set(plan.placements.filter((p) => existing.has(p.node)).map((p) => p.node));
  lines.push(
    `Placed: ${replicas.size} replica${replicas.size === 1 ? "" : "s"} in ${plan.placements.length} placement${plan.placements.length === 1 ? "" : "s"}` +
      `, ${onExisting.size} existing node${onExisting.size === 1 ? "" : "s"} used`,
  );
  if (plan.unplaced.length > 0) {
    // One line per demand and reason, not per replica.
    const groups = new Map<string, { demand: string; reason: string; replicas: number[] }>();
    for (const u of plan.unplaced) {
      const key = `${u.demand}\n${u.reason}`;
      const g = groups.get(key) ?? { demand: u.demand, reason: u.reason, replicas: [] };
      g.replicas.push(u.replica);
      groups.set(key, g);
    }
    lines.push("", `Unplaced: ${plan.unplaced.length} replica${plan.unplaced.length === 1 ? "" : "s"}`);
    const rows = [["DEMAND", "REPLICAS", "REASON"]];
    for (const g of groups.values()) rows.push([g.demand, ranges(g.replicas), g.reason]);
    lines.push(formatTable(rows));
  } else {
    lines.push("");
  }
  return lines.join("\n");
}

/** 0,1,2,5 → "0-2,5". */
function ranges(xs: number[]): string {
  const sorted = [...xs].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(",");
}
