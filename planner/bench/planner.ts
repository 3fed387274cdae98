// `npm run bench:planner`: seeded mixed fleets of 10 to 10,000 workspaces, each solved by the
// packing MILP (GLPK, block by block, the default) and by HiGHS on the whole model, against
// the dedicated and first-fit-decreasing baselines. Flags: --sizes 10,100 --runs 3 --gap 0.001
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
      pct(best.gap),
      best.costPerHour.toFixed(2),
      String(best.unplaced.length),
      highs ? median(highs.ms).toFixed(0) : "-",
      highs ? pct(highs.plan.gap) : "-",
      highs ? (highs.plan.costPerHour / best.costPerHour).toFixed(4) : "-",
      ratio(planDedicated(problem), best),
      ratio(planFfd(problem), best),
      ratio(planDedicated(free), freeBest),
      ratio(planFfd(free), freeBest),
    ],
  });
  printTable(rows);
}

function printTable(all: Row[]): void {
  const header = [
    "workspaces",
    "replicas",
    "labels",
    "nodes",
    "classes",
    "model",
    "glpk ms",
    "glpk gap",
    "optimum $/h",
    "unplaced",
    "highs ms",
    "highs gap",
    "highs/opt",
    "dedicated/opt",
    "ffd/opt",
    "no quota: dedicated/opt",
    "ffd/opt",
  ];
  const table = [header, ...all.map((r) => r.cells)];
  const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  console.log(
    ["", line(header), line(widths.map((w) => "-".repeat(w))), ...all.map((r) => line(r.cells))].join("\n"),
  );
}

function navigatorInfo(): string {
  return `node ${process.version}`;
}
