import type { SimulationResult } from "../index.ts";
import { formatDuration } from "../duration.ts";
import type { PolicyName } from "../policies.ts";
import { money, percent, SUMMARY_HEADER, SUMMARY_NUMERIC, summaryRow } from "../summary.ts";
import { barChart, escapeXml, lineChart, type Series } from "./svg.ts";

const COLORS: Record<PolicyName, string> = {
  milp: "#1f77b4",
  ffd: "#ff7f0e",
  dedicated: "#2ca02c",
  "milp-one-at-a-time": "#9467bd",
  "milp-quota-blind": "#8c564b",
};
const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The self-contained HTML report: summary table and inline SVG charts, no scripts, no external
 * fonts or styles, so it opens anywhere (and offline) exactly as written.
 */
export function renderReport(sim: SimulationResult): string {
  const { scenario, results } = sim;
  // Time axes in days (or hours for short runs), so ticks fall on round numbers.
  const unit = scenario.duration >= 2 * DAY ? DAY : HOUR;
  const xFormat = (v: number) => `${v}${unit === DAY ? "d" : "h"}`;
  const series = (pick: (s: (typeof results)[number]["samples"][number]) => number): Series[] =>
    results.map((r) => ({
      name: r.policy,
      color: COLORS[r.policy],
      points: r.samples.map((s) => [s.t / unit, pick(s)] as const),
    }));

  const charts = [
    lineChart({
      title: "Cumulative cost",
      series: series((s) => s.cost),
      xLabel: "simulated time",
      yLabel: "USD",
      formatX: xFormat,
      formatY: (v) => `$${Math.round(v).toLocaleString("en-US")}`,
    }),
    lineChart({
      title: "Cost per hour of running nodes",
      series: series((s) => s.costPerHour),
      xLabel: "simulated time",
      yLabel: "USD per hour",
      formatX: xFormat,
      formatY: (v) => `$${Math.round(v).toLocaleString("en-US")}`,
      step: true,
    }),
    lineChart({
      title: "GPU allocation (allocated / capacity)",
      series: series((s) => (s.capacityGpus > 0 ? s.allocatedGpus / s.capacityGpus : 0)),
      xLabel: "simulated time",
      yLabel: "share of GPUs allocated",
      formatX: xFormat,
      formatY: (v) => `${Math.round(v * 100)}%`,
      yMin: 0,
      yMax: 1,
      step: true,
    }),
    lineChart({
      title: "GPU nodes",
      series: series((s) => s.nodes),
      xLabel: "simulated time",
      yLabel: "nodes",
      formatX: xFormat,
      formatY: (v) => String(v),
      step: true,
    }),
    lineChart({
      title: "Time to ready (cumulative distribution)",
      series: results.map((r) => {
        const sorted = [...r.timeToReady].sort((a, b) => a - b);
        return {
          name: r.policy,
          color: COLORS[r.policy],
          points: sorted.map((v, i) => [v / 60_000, (i + 1) / sorted.length] as const),
        };
      }),
      xLabel: "minutes from arrival until every replica is ready",
      yLabel: "share of workspaces",
      formatX: (v) => `${v}m`,
      formatY: (v) => `${Math.round(v * 100)}%`,
      yMin: 0,
      yMax: 1,
      step: true,
    }),
  ];
  const bars = (
    title: string,
    value: (r: (typeof results)[number]) => number,
    format: (v: number) => string,
  ) =>
    barChart(
      title,
      results.map((r) => ({ label: r.policy, value: value(r), color: COLORS[r.policy] })),
      format,
    );
  const comparison = [
    bars("Total cost", (r) => r.totalCost, money),
    bars("Cost per served replica-hour", (r) => r.costPerServedReplicaHour, money),
    bars("Mean GPU allocation", (r) => r.meanAllocation, percent),
    bars("Time to ready, p95", (r) => r.timeToReadyP95 ?? 0, formatDuration),
    bars("Peak nodes", (r) => r.peakNodes, String),
    bars("Unplaced replicas", (r) => r.unplaced, String),
  ];

  const table =
    `<table><thead><tr>${SUMMARY_HEADER.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr></thead><tbody>` +
    results
      .map(
        (r) =>
          `<tr>${summaryRow(r)
            .map((c, i) => `<td${SUMMARY_NUMERIC.has(i) ? ' class="n"' : ""}>${escapeXml(c)}</td>`)
            .join("")}</tr>`,
      )
      .join("") +
    `</tbody></table>`;

  const skus = [...new Set(results.flatMap((r) => Object.keys(r.costBySku)))].sort(
    (a, b) =>
      Math.max(...results.map((r) => r.costBySku[b] ?? 0)) -
      Math.max(...results.map((r) => r.costBySku[a] ?? 0)),
  );
  const skuTable =
    `<table><thead><tr><th>SKU</th>${results.map((r) => `<th>${escapeXml(r.policy)}</th>`).join("")}</tr></thead><tbody>` +
    skus
      .map(
        (sku) =>
          `<tr><td>${escapeXml(sku)}</td>${results
            .map((r) => `<td class="n">${escapeXml(money(r.costBySku[sku] ?? 0))}</td>`)
            .join("")}</tr>`,
      )
      .join("") +
    `</tbody></table>`;

  const named = scenario.models
    .filter((m) => m.instanceType !== undefined)
    .map((m) => `${m.preset}: ${m.instanceType}`)
    .join(", ");
  const facts = [
    `${sim.arrivals.toLocaleString("en-US")} workspace arrivals over ${formatDuration(scenario.duration)}`,
    `seed ${scenario.seed}`,
    `models: ${scenario.models.map((m) => m.preset).join(", ")}`,
    `label groups: ${scenario.labelGroups.map((g) => g.name).join(", ")}`,
    `${scenario.catalog.length} SKUs`,
    Object.keys(scenario.quota).length > 0
      ? `quota: ${Object.entries(scenario.quota)
          .map(([f, v]) => `${f} ${v} vCPUs`)
          .join(", ")}`
      : "no quota limits",
    `launch failure rate ${percent(scenario.provisioning.failureRate)}`,
    `idle timeout ${formatDuration(scenario.idleTimeout)}`,
  ];

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kaito simulate: ${escapeXml(scenario.name)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1480px; }
table { border-collapse: collapse; margin: 12px 0 24px; }
th, td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.charts svg { border: 1px solid #eee; background: #fff; max-width: 100%; height: auto; }
.note { color: #555; font-size: 14px; }
</style>
</head>
<body>
<h1>Capacity simulation: ${escapeXml(scenario.name)}</h1>
<p>${escapeXml(scenario.description)}</p>
<p class="note">${facts.map(escapeXml).join(" · ")}</p>
<h2>Summary</h2>
${table}
<p class="note">Cost counts every node from its launch to its removal. GPU allocation is time-weighted allocated over
existing GPUs. Time to ready runs from a workspace's arrival until every placed replica's nodes are ready.
Quota failures count replicas that found every eligible family out of vCPU quota; they wait and are tried again
whenever a node or GPUs are freed (oldest first). Unplaced replicas were still waiting when their workspace left or the
run ended, or fit no SKU at all. Workspaces that waited count their wait in time to ready.</p>
<p class="note">Policies: milp is kaito-ts's planner (least-cost packing, proven optimal per plan); ffd is first-fit
decreasing onto the cheapest size per replica, as Karpenter packs; dedicated is KAITO's, one node per replica of the
instance type the scenario names for the model${named ? ` (${escapeXml(named)})` : ""}, else the cheapest that fits.</p>
<h2>Cost by SKU</h2>
${skuTable}
<h2>Policies compared</h2>
<div class="charts">${comparison.join("\n")}</div>
<h2>Over time</h2>
<div class="charts">${charts.join("\n")}</div>
</body>
</html>
`;
}
