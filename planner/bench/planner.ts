// `npm run bench:planner`: seeded mixed fleets of 10 to 10,000 workspaces, each solved by the
// packing MILP (GLPK, block by block, the default) and by HiGHS on the whole model, against
// the dedicated and first-fit-decreasing baselines. A progress line per size, then one table
// and a verdict per target of the issue. Flags: --sizes 10,100 --runs 3 --gap 0.001
// --time-limit 10000 --no-highs.
import { parseArgs } from "node:util";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { toCatalogEntries } from "../catalog/index.ts";
import { aggregate } from "../packing/classes.ts";
import { buildModel } from "../packing/model.ts";
import { planDedicated, planFfd, solve, checkPlan, type Plan, type Problem } from "../packing/index.ts";
import { highsSolver } from "../solver/highs.ts";
import { generateProblem } from "./generate.ts";

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000,10000" },
    runs: { type: "string", default: "3" },
    gap: { type: "string", default: "0.001" },
    "time-limit": { type: "string", default: "10000" },
    "no-highs": { type: "boolean", default: false },
    seed: { type: "string", default: "1" },
  },
});
const sizes = flags.sizes.split(",").map(Number);
const runs = Number(flags.runs);
const mipGap = Number(flags.gap);
const timeLimitMs = Number(flags["time-limit"]);
const seed = Number(flags.seed);

// Sub-millisecond solve times for the small sizes.
const clock: Clock = { ...systemClock, now: () => performance.timeOrigin + performance.now() };

const catalog = toCatalogEntries();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
const replicas = (p: Problem) => p.demands.reduce((s, d) => s + d.replicas, 0);

interface Row {
  size: number;
  cells: string[];
}

async function timed(problem: Problem, run: () => Promise<Plan>): Promise<{ plan: Plan; ms: number[] }> {
  const ms: number[] = [];
  let plan: Plan | undefined;
  for (let i = 0; i < runs; i++) {
    plan = await run();
    ms.push(plan.solveMs);
    const errors = checkPlan(problem, plan);
    if (errors.length > 0) throw new Error(`invalid plan: ${errors.slice(0, 3).join("; ")}`);
  }
  return { plan: plan!, ms };
}

const rows: Row[] = [];
const targets: { size: number; glpk: Plan; glpkMs: number; dedicated: number; freeDedicated: number }[] = [];
console.log(
  `kaito-ts planner benchmark: ${catalog.length} Azure GPU SKUs (embedded snapshot), seed ${seed}, ` +
    `${runs} runs per solver, mipGap ${mipGap}, time limit ${timeLimitMs} ms, ${navigatorInfo()}`,
);
for (const size of sizes) {
  const { problem, labelGroups } = generateProblem(size, catalog, seed);
  const agg = aggregate(problem);
  const pm = buildModel(agg, { kind: "cost", maxUnplaced: 0 });
  const glpk = await timed(problem, () => solve(problem, { clock, mipGap, timeLimitMs }));
  const highs = flags["no-highs"]
    ? undefined
    : await timed(problem, () =>
        solve(problem, { clock, mipGap, timeLimitMs, solver: highsSolver, strategy: "whole" }),
      );
  const best = glpk.plan;
  const ratio = (p: Plan, opt: Plan) => {
    const r = (p.costPerHour / opt.costPerHour).toFixed(3);
    // A baseline that leaves more unplaced would cost even more to place them: say so.
    return p.unplaced.length > opt.unplaced.length
      ? `${r} (${p.unplaced.length - opt.unplaced.length} unpl.)`
      : r;
  };
  // The baselines spend scarce quota greedily and leave replicas unplaced, so their ratios
  // are also given for the same fleet without quotas, where every plan places everything.
  const free = { ...problem, quota: {} };
  const freeBest = await solve(free, { clock, mipGap, timeLimitMs });
  const dedicated = planDedicated(problem);
  const freeDedicated = planDedicated(free);
  targets.push({
    size,
    glpk: best,
    glpkMs: median(glpk.ms),
    dedicated: dedicated.costPerHour / best.costPerHour,
    freeDedicated: freeDedicated.costPerHour / freeBest.costPerHour,
  });
  rows.push({
    size,
    cells: [
      String(size),
      String(replicas(problem)),
      String(labelGroups),
      String(problem.nodes.length),
      `${agg.classes.length}/${agg.nodeClasses.length}`,
      `${pm.model.columns.length}x${pm.model.rows.length}`,
      median(glpk.ms).toFixed(0),
      best.status,
      pct(best.gap),
      best.costPerHour.toFixed(2),
      String(best.unplaced.length),
      highs ? median(highs.ms).toFixed(0) : "-",
      highs ? highs.plan.status : "-",
      highs ? pct(highs.plan.gap) : "-",
      highs ? (highs.plan.costPerHour / best.costPerHour).toFixed(4) : "-",
      highs ? (median(glpk.ms) / median(highs.ms)).toFixed(2) : "-",
      ratio(dedicated, best),
      ratio(planFfd(problem), best),
      ratio(freeDedicated, freeBest),
      ratio(planFfd(free), freeBest),
    ],
  });
  console.log(
    `${size} workspaces: glpk ${best.status} ${best.costPerHour.toFixed(2)} $/h, gap ${pct(best.gap)}, ` +
      `${median(glpk.ms).toFixed(0)} ms` +
      (highs
        ? `; highs ${highs.plan.status} ${highs.plan.costPerHour.toFixed(2)} $/h, gap ${pct(highs.plan.gap)}, ` +
          `${median(highs.ms).toFixed(0)} ms`
        : ""),
  );
}
printTable(rows);
printTargets();

function printTable(all: Row[]): void {
  const header = [
    "workspaces",
    "replicas",
    "labels",
    "nodes",
    "classes",
    "model",
    "glpk ms",
    "glpk status",
    "glpk gap",
    "glpk $/h",
    "unplaced",
    "highs ms",
    "highs status",
    "highs gap",
    "highs/glpk $",
    "glpk/highs ms",
    "dedicated/glpk",
    "ffd/glpk",
    "no quota: dedicated/glpk",
    "ffd/glpk",
  ];
  const table = [header, ...all.map((r) => r.cells)];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(
    ["", line(header), line(widths.map((w) => "-".repeat(w))), ...all.map((r) => line(r.cells))].join("\n"),
  );
}

/**
 * The targets, judged from this run's measurements: a gap of at most 0.1% for 10,000
 * workspaces in under 2 s, and the optimum at least 25% cheaper than dedicated nodes (a
 * dedicated/optimum ratio of at least 4/3) on every mixed fleet. With quotas the dedicated
 * baseline leaves replicas unplaced and would cost more still to place them, so the fleets
 * without quotas, where every plan places everything, are judged too. GLPK's plan stands in
 * for the optimum; where it is not proven optimal the true saving is larger still.
 */
function printTargets(): void {
  const verdict = (ok: boolean) => (ok ? "met" : "missed");
  const large = targets.find((t) => t.size === 10_000);
  console.log(
    large
      ? `\ntarget: gap <= 0.1% at 10,000 workspaces in under 2 s: ${verdict(large.glpk.gap <= 0.001 && large.glpkMs < 2000)} ` +
          `(${pct(large.glpk.gap)} in ${large.glpkMs.toFixed(0)} ms, ${large.glpk.status})`
      : "\ntarget: gap <= 0.1% at 10,000 workspaces in under 2 s: not measured (add 10000 to --sizes)",
  );
  if (targets.length === 0) return;
  const saving = (ratio: number) => 1 - 1 / ratio;
  const least = (pick: (t: (typeof targets)[number]) => number) =>
    targets.reduce((a, b) => (pick(b) < pick(a) ? b : a));
  const quota = least((t) => t.dedicated);
  const free = least((t) => t.freeDedicated);
  const ok = saving(quota.dedicated) >= 0.25 && saving(free.freeDedicated) >= 0.25;
  console.log(
    `target: optimum >= 25% cheaper than dedicated on the mixed problems: ${verdict(ok)} ` +
      `(least saving ${pct(saving(quota.dedicated))} at ${quota.size} workspaces with quotas, ` +
      `${pct(saving(free.freeDedicated))} at ${free.size} without)`,
  );
}

function navigatorInfo(): string {
  return `node ${process.version}`;
}
