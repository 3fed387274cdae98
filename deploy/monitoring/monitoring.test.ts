// The dashboard and the rules, checked offline: promtool validates and unit-tests the rules and
// parses every dashboard query, and every metric they read must be one the operator registers
// (found by building it), one the rules record, or one NVIDIA's dcgm-exporter exports.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOperator, componentNames, defaultAddresses } from "../../controller/operator.ts";
import { unreachableKubeClient } from "../../kube/testing.ts";
import { silentLogger } from "../../lib/log.ts";
import { FakeCloudProvider } from "../../provisioner/cloud/fake/index.ts";
import { extenderMetrics } from "../../scheduler/metrics.ts";
import {
  allPanels,
  dashboardQueries,
  grafanaBuiltins,
  loadDashboard,
  loadRules,
  metricNames,
  rulesFile,
  rulesTestFile,
  substituteVariables,
  variablesIn,
} from "./queries.ts";
import { prometheusBinary } from "./tools.ts";

function promtool(...args: string[]): { ok: boolean; output: string } {
  const r = spawnSync(prometheusBinary("promtool"), args, { encoding: "utf8", timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** Metric types by name, from the registry of an operator built with every component. */
async function registeredMetrics(): Promise<Map<string, string>> {
  const client = unreachableKubeClient();
  try {
    const manager = buildOperator({
      client,
      components: new Set(componentNames),
      addresses: defaultAddresses,
      log: silentLogger,
      cloud: new FakeCloudProvider(),
    });
    // The extender registers its metrics when it starts listening, not when it is built.
    extenderMetrics(manager.registry);
    const metrics = await manager.registry.getMetricsAsJSON();
    return new Map(metrics.map((m) => [m.name, String(m.type)]));
  } finally {
    client.close();
  }
}

/** The series names a metric family exposes. */
function seriesNames(name: string, type: string): string[] {
  if (type === "histogram") return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  if (type === "summary") return [name, `${name}_sum`, `${name}_count`];
  return [name];
}

const dashboard = loadDashboard();
const groups = loadRules();
const rules = groups.flatMap((g) => g.rules);
const recorded = new Map(rules.filter((r) => r.record).map((r) => [r.record!, r.expr]));
const queries = dashboardQueries(dashboard);
const variables = dashboard.templating.list;

let registered: Map<string, string>;
let tmp: string;
beforeAll(async () => {
  registered = await registeredMetrics();
  tmp = mkdtempSync(path.join(os.tmpdir(), "kaito-monitoring-"));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the Prometheus tools", () => {
  it("are looked up on PATH, and a missing one names the package to install", () => {
    expect(() => prometheusBinary("promtool", { PATH: tmp })).toThrow(
      /promtool is not installed: install Debian's prometheus package/,
    );
  });
});

describe("Prometheus rules", () => {
  it("pass promtool check rules", () => {
    const r = promtool("check", "rules", rulesFile);
    expect(r.output, r.output).toMatch(/SUCCESS/);
    expect(r.ok, r.output).toBe(true);
  });

  it("pass their promtool unit tests", () => {
    const r = promtool("test", "rules", rulesTestFile);
    expect(r.ok, r.output).toBe(true);
  });

  it("have unit tests in which every alert both fires and stays quiet", () => {
    const tests = (
      parse(readFileSync(rulesTestFile, "utf8")) as {
        tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test ?? []);
    const alerts = [...new Set(rules.filter((r) => r.alert).map((r) => r.alert!))];
    expect(alerts.sort()).toEqual([
      "KaitoGpuIdle",
      "KaitoMachineProvisioningFailures",
      "KaitoWorkspaceNotReady",
    ]);
    for (const alert of alerts) {
      const cases = tests.filter((t) => t.alertname === alert);
      expect(
        cases.some((t) => (t.exp_alerts ?? []).length > 0),
        `${alert} fires in some test`,
      ).toBe(true);
      expect(
        cases.some((t) => (t.exp_alerts ?? []).length === 0),
        `${alert} stays quiet in some test`,
      ).toBe(true);
    }
  });

  it("name their recordings kaito:... and give every alert a severity, summary and description", () => {
    for (const r of rules) {
      if (r.record) expect(r.record).toMatch(/^kaito:[a-z0-9_]+:[a-z0-9_]+$/);
      if (r.alert) {
        expect(r.labels?.severity, r.alert).toMatch(/^(info|warning|critical)$/);
        expect(r.annotations?.summary, r.alert).toBeTruthy();
        expect(r.annotations?.description, r.alert).toBeTruthy();
      }
    }
  });
});

describe("Grafana dashboard", () => {
  it("takes its data source from a ${datasource} variable on every panel and query", () => {
    expect(variables.find((v) => v.name === "datasource")).toMatchObject({
      type: "datasource",
      query: "prometheus",
    });
    const panels = allPanels(dashboard.panels).filter((p) => p.type !== "row");
    expect(new Set(allPanels(dashboard.panels).map((p) => p.id)).size).toBe(
      allPanels(dashboard.panels).length,
    );
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual(p.datasource);
    }
  });

  it("uses only variables it defines or Grafana provides", () => {
    const known = new Set([...variables.map((v) => v.name), ...Object.keys(grafanaBuiltins)]);
    for (const q of queries)
      for (const v of variablesIn(q.expr)) expect(known, `${q.where}: $${v}`).toContain(v);
  });

  it("has only queries promtool parses as PromQL", () => {
    const file = path.join(tmp, "dashboard-queries.yaml");
    const asRules = queries.map((q, i) => ({
      record: `dashboard:query_${i}`,
      expr: substituteVariables(q.expr, variables),
    }));
    writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules: asRules }] }));
    const r = promtool("check", "rules", file);
    expect(r.ok, r.output).toBe(true);
  });

  it("shows GPUs, DCGM utilisation, cost, workspaces and the latencies the issue asks for", () => {
    // Recording rules stand for the metrics they read.
    const read = (expr: string): string[] =>
      metricNames(expr).flatMap((n) => (recorded.has(n) ? [n, ...read(recorded.get(n)!)] : [n]));
    const used = new Set(queries.flatMap((q) => read(q.expr)));
    for (const name of [
      "kaito_gpu_capacity",
      "kaito_gpu_allocated",
      "DCGM_FI_DEV_GPU_UTIL",
      "kaito_plan_cost_per_hour",
      "kaito_workspaces",
      "kaito_machine_provisioning_duration_seconds_bucket",
      "kaito_machine_provisioning_failures_total",
      "kaito_planner_solve_duration_seconds_bucket",
      "kaito_extender_request_duration_seconds_bucket",
    ])
      expect(used, name).toContain(name);
  });
});

describe("metric names", () => {
  it("are found in PromQL without functions, keywords, labels, strings or durations", () => {
    expect(
      metricNames(
        'sum by (le, verb) (rate(a_bucket{verb=~"$v",x="y(z)"}[5m] offset 1m)) / on (node) group_left (sku) ' +
          'group by (node, sku) (label_replace(b:rec:sum, "node", "$1", "Hostname", "(.+)")) > bool 1e3 and c',
      ),
    ).toEqual(["a_bucket", "b:rec:sum", "c"]);
  });

  it("in the dashboard and the rules are registered by the operator, recorded by the rules, or DCGM's", () => {
    const series = new Set([...registered].flatMap(([name, type]) => seriesNames(name, type)));
    const sources = [
      ...queries.map((q) => ({ where: `dashboard ${q.where}`, expr: q.expr })),
      ...rules.map((r) => ({ where: `rule ${r.record ?? r.alert}`, expr: r.expr })),
    ];
    const unknown = sources.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((n) => !series.has(n) && !recorded.has(n) && !n.startsWith("DCGM_FI_"))
        .map((n) => `${where}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it("registered by the operator follow Prometheus conventions", () => {
    const compatible = /^(controller_runtime_|workqueue_|rest_client_)/;
    expect(registered.size).toBeGreaterThan(10);
    for (const [name, type] of registered) {
      expect(name, name).toMatch(compatible.test(name) ? /^[a-z_]+$/ : /^kaito_[a-z0-9_]+$/);
      if (type === "counter") expect(name).toMatch(/_total$/);
      else expect(name).not.toMatch(/_total$/);
      // Every histogram here times something: base unit seconds.
      if (type === "histogram") expect(name).toMatch(/_seconds$/);
    }
  });
});
