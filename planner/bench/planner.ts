// `npm run bench:planner`: fleets shaped like real KAITO use (most workspaces with a
// labelSelector of their own, teams sharing one, binding quotas, existing nodes with free GPUs;
// see fleet.ts) from 100 to 10,000 workspaces, plus the old shape of 25 team groups, each solved
// by the planner (GLPK, the production solver) and, in the same run, by HiGHS on the whole
// model, against the dedicated and first-fit-decreasing baselines. A progress line per fleet,
// then one table and a verdict per target of the issue.
// Flags: --fleets 100@0.95,10000@0.5 --runs 3 --gap 0.001 --time-limit 10000 --no-highs
// --no-teams (skip the 25-group row) --seed 1.
import { parseArgs } from "node:util";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { toCatalogEntries } from "../catalog/index.ts";
import { splitIntoBlocks } from "../packing/blocks.ts";
import { aggregate } from "../packing/classes.ts";
import { planDedicated, planFfd, solve, checkPlan, type Plan, type Problem } from "../packing/index.ts";
import { highsSolver } from "../solver/highs.ts";
import { generateFleet } from "./fleet.ts";
import { generateProblem } from "./generate.ts";

const { values: flags } = parseArgs({
  options: {
    fleets: {
      type: "string",
      default: "100@0.95,1000@0.8,1500@0.8,3000@0.65,6000@0.7,10000@0.5,10000@0.8,10000@0.95",
    },
    runs: { type: "string", default: "3" },
    gap: { type: "string", default: "0.001" },
    "time-limit": { type: "string", default: "10000" },
    "no-highs": { type: "boolean", default: false },
    "no-teams": { type: "boolean", default: false },
    seed: { type: "string", default: "1" },
  },
});
const runs = Number(flags.runs);
const mipGap = Number(flags.gap);
const timeLimitMs = Number(flags["time-limit"]);
const seed = Number(flags.seed);

// Sub-millisecond solve times for the small fleets.
const clock: Clock = { ...systemClock, now: () => performance.timeOrigin + performance.now() };

const catalog = toCatalogEntries();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
const replicas = (p: Problem) => p.demands.reduce((s, d) => s + d.replicas, 0);

interface Fleet {
  label: string;
  workspaces: number;
  own: string;
  problem: Problem;
  groups: number;
}

const fleets: Fleet[] = flags.fleets.split(",").map((spec) => {
  const [size, share] = spec.split("@");
  const workspaces = Number(size);
  const ownShare = Number(share ?? 0.8);
  const { problem, labelGroups } = generateFleet(workspaces, catalog, { seed, ownShare });
  return { label: spec, workspaces, own: `${Math.round(ownShare * 100)}%`, problem, groups: labelGroups };
});
if (!flags["no-teams"]) {
  const { problem, labelGroups } = generateProblem(10_000, catalog, seed);
  fleets.push({
    label: "10000 teams",
    workspaces: 10_000,
    own: "0% (25 teams)",
    problem,
    groups: labelGroups,
  });
}

async function timed(
  problem: Problem,
  n: number,
  run: () => Promise<Plan>,
): Promise<{ plan: Plan; ms: number }> {
  const ms: number[] = [];
  let plan: Plan | undefined;
  for (let i = 0; i < n; i++) {
    plan = await run();
    ms.push(plan.solveMs);
    const errors = checkPlan(problem, plan);
    if (errors.length > 0) throw new Error(`invalid plan: ${errors.slice(0, 3).join("; ")}`);
  }
  return { plan: plan!, ms: median(ms) };
}

interface Result {
  fleet: Fleet;
  glpk: Plan;
  glpkMs: number;
  cells: string[];
}

const results: Result[] = [];
console.log(
  `kaito-ts planner benchmark: ${catalog.length} Azure GPU SKUs (embedded snapshot), seed ${seed}, ` +
    `GLPK ${runs} runs (median), HiGHS 1 run on the whole model, mipGap ${mipGap}, time limit ${timeLimitMs} ms, ` +
    `node ${process.version}`,
);
for (const fleet of fleets) {
  const { problem } = fleet;
  const types = splitIntoBlocks(aggregate(problem));
  const glpk = await timed(problem, runs, () => solve(problem, { clock, mipGap, timeLimitMs }));
  const highs = flags["no-highs"]
    ? undefined
    : await timed(problem, 1, () =>
        solve(problem, { clock, mipGap, timeLimitMs, solver: highsSolver, strategy: "whole" }),
      );
  const best = glpk.plan;
  const ratio = (p: Plan, digits = 3) => {
    const r = (p.costPerHour / best.costPerHour).toFixed(digits);
    // A baseline that leaves more unplaced would cost even more to place them: say so.
    return p.unplaced.length > best.unplaced.length
      ? `${r} (${p.unplaced.length - best.unplaced.length} unpl.)`
      : r;
  };
  results.push({
    fleet,
    glpk: best,
    glpkMs: glpk.ms,
    cells: [
      fleet.label,
      fleet.own,
      String(replicas(problem)),
      String(fleet.groups),
      String(problem.nodes.length),
      String(types.length),
      glpk.ms.toFixed(0),
      best.status,
      pct(best.gap),
      best.costPerHour.toFixed(2),
      String(best.unplaced.length),
      highs ? highs.ms.toFixed(0) : "-",
      highs ? highs.plan.status : "-",
      highs ? pct(highs.plan.gap) : "-",
      highs ? ratio(highs.plan, 4) : "-",
      highs ? (highs.ms / glpk.ms).toFixed(1) : "-",
      ratio(planDedicated(problem)),
      ratio(planFfd(problem)),
    ],
  });
  console.log(
    `${fleet.label}: planner ${best.status} ${best.costPerHour.toFixed(2)} $/h, gap ${pct(best.gap)}, ${glpk.ms.toFixed(0)} ms` +
      (highs
        ? `; highs ${highs.plan.status} ${highs.plan.costPerHour.toFixed(2)} $/h, gap ${pct(highs.plan.gap)}, ${highs.ms.toFixed(0)} ms`
        : ""),
  );
}
printTable();
printTargets();

function printTable(): void {
  const header = [
    "fleet",
    "own labels",
    "replicas",
    "groups",
    "nodes",
    "block types",
    "ms",
    "status",
    "gap",
    "$/h",
    "unplaced",
    "highs ms",
    "highs status",
    "highs gap",
    "highs/planner $",
    "highs/planner ms",
    "dedicated/planner",
    "ffd/planner",
  ];
  const table = [header, ...results.map((r) => r.cells)];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(
    ["", line(header), line(widths.map((w) => "-".repeat(w))), ...results.map((r) => line(r.cells))].join(
      "\n",
    ),
  );
}

/**
 * The target, judged from this run's measurements: every 10,000-workspace fleet of the
 * real shape planned within 0.1% of the optimum, proven by the plan's own bound, in under 2 s.
 */
function printTargets(): void {
  const large = results.filter((r) => r.fleet.workspaces === 10_000 && !r.fleet.label.includes("teams"));
  if (large.length === 0) {
    console.log(
      "\ntarget: 10,000 workspaces within 0.1% in under 2 s: not measured (add 10000@0.5 to --fleets)",
    );
    return;
  }
  const ok = large.every((r) => r.glpk.gap <= 0.001 && r.glpkMs < 2000);
  console.log(
    `\ntarget: 10,000 workspaces of the real shape within 0.1% (proven) in under 2 s: ${ok ? "met" : "missed"} (` +
      large.map((r) => `${r.fleet.own} own: ${pct(r.glpk.gap)} in ${r.glpkMs.toFixed(0)} ms`).join("; ") +
      ")",
  );
}
