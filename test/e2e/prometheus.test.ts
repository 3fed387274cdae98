// A real Prometheus (Debian's package) scrapes the operator running on the local cluster, plus a
// dcgm-exporter stand-in for the kwok GPU nodes, with deploy/monitoring's rules loaded; then every
// query of deploy/monitoring's dashboard must return data. Two KAITO example workspaces (one on the
// example's instance type, one left to the planner), one injected launch failure and one GPU pod
// placed through the extender by a real kube-scheduler give every panel something to show.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Machine, Workspace } from "../../crds/index.ts";
import { instanceTypeLabel, workspaceNamespaceLabel } from "../../crds/index.ts";
import {
  dashboardQueries,
  loadDashboard,
  loadRules,
  rulesFile,
  substituteVariables,
} from "../../deploy/monitoring/queries.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { kwokNodeAnnotation } from "../../localcluster/components.ts";
import { startScheduler, type RunningScheduler } from "../../localcluster/scheduler.ts";
import { findSku } from "../../planner/catalog/index.ts";
import { gpuProductLabel } from "../../provisioner/cloud/local/node.ts";
import { kubeSchedulerConfig } from "../../scheduler/scheduler-config.ts";
import { randomSuffix, useTestCluster } from "../harness/index.ts";
import { startDcgmStandIn, type DcgmStandIn } from "./dcgm-standin.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { startPrometheus, type RunningPrometheus, type Sample } from "./prometheus.ts";
import { until } from "../harness/until.ts";
import { deleteWorkspaces } from "./workspaces.ts";

type Ws = Workspace & KubeObject;
interface Node extends KubeObject {
  spec?: { taints?: { effect: string }[] };
  status?: { allocatable?: Record<string, string>; conditions?: { type: string; status: string }[] };
}
interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}

const cluster = useTestCluster();
const run = randomSuffix();
const schedulerName = `kaito-prometheus-${run}`;
/** A GPU node outside any workspace, for a pod that kube-scheduler places through the extender. */
const extenderNode = `prometheus-gpu-${run}`;
const extenderNodeLabel = "kaito.sh/test-prometheus";
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
const utilization = 37;

let operator: RunningOperator;
let prometheus: RunningPrometheus | undefined;
let scheduler: RunningScheduler | undefined;
let dcgm: DcgmStandIn | undefined;
let namespace: string | undefined;
const operatorLog: string[] = [];

/** The URL the operator's extender logged when it started listening (its port is chosen at start). */
function extenderUrl(): string | undefined {
  for (const line of operatorLog) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === "scheduler extender listening") return entry.url;
  }
  return undefined;
}

async function createExtenderNode(): Promise<void> {
  await operator.client.create<Node>(resources.nodes, {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: extenderNode,
      annotations: { [kwokNodeAnnotation]: "fake" },
      labels: {
        "kubernetes.io/hostname": extenderNode,
        [extenderNodeLabel]: run,
        [instanceTypeLabel]: "Standard_NC24ads_A100_v4",
        [gpuProductLabel]: "NVIDIA-A100-PCIE-80GB",
      },
    },
    status: { capacity: { cpu: "24", memory: "220Gi", pods: "110", "nvidia.com/gpu": "1" } },
  } as Node);
}

beforeAll(async () => {
  operator = await startOperator(cluster.kubeconfigPath, {
    // Slow enough boots (real GPU VMs take minutes) that Prometheus scrapes each size's latency
    // series at zero before its first Machine is Ready, which rate() needs to see the increase.
    bootDelayMs: 3000,
    logLevel: "info",
    log: (line) => {
      operatorLog.push(line);
      if (line.includes('"level":"error"')) process.stderr.write(line);
    },
  });
  const metricsPort = await until(
    () => "the manager's metrics server",
    async () => operator.manager.ports()[0],
  );
  const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(metricsText).toContain("# TYPE kaito_gpu_capacity gauge");
  const extender = await until(
    () => "the extender's URL in the operator's log",
    async () => extenderUrl(),
  );
  await createExtenderNode();
  dcgm = await startDcgmStandIn();
  [prometheus, scheduler] = await Promise.all([
    startPrometheus({
      targets: [
        { job: "kaito-ts", address: `127.0.0.1:${metricsPort}` },
        { job: "dcgm-exporter", address: dcgm.address },
      ],
      ruleFiles: [rulesFile],
    }),
    startScheduler({
      kubeconfigPath: cluster.kubeconfigPath,
      config: { ...kubeSchedulerConfig({ url: extender }), profiles: [{ schedulerName }] },
    }),
  ]);
  // Events must happen after the first scrape, or rate() never sees their counters move.
  const p = prometheus;
  await until(
    () => `Prometheus to scrape both targets:\n${p.logTail()}`,
    async () => {
      const targets = await p.targets();
      return targets.length === 2 && targets.every((t) => t.health === "up") ? true : undefined;
    },
  );
});

afterAll(async () => {
  // The operator must see its workspaces' deletion through, or their finalizers hold the namespace.
  if (namespace && operator) {
    await deleteWorkspaces(operator.client, namespace).catch((e: unknown) =>
      process.stderr.write(`${String(e)}\n`),
    );
  }
  await operator?.client.delete(resources.nodes, extenderNode).catch(() => undefined);
  await Promise.all([prometheus?.stop(), scheduler?.stop(), dcgm?.close()]);
  await operator?.stop();
});

const condition = (ws: Ws, type: string) => ws.status?.conditions?.find((c) => c.type === type)?.status;

async function applyWorkspaces(ns: string): Promise<Ws[]> {
  const example = parse(readFileSync(path.join(examplesDir, "kaito_workspace_phi_3.yaml"), "utf8")) as Ws;
  const fixed: Ws = { ...example, metadata: { ...example.metadata, namespace: ns } };
  const planned: Ws = structuredClone(fixed);
  planned.metadata = { name: `${fixed.metadata!.name}-planned`, namespace: ns };
  delete planned.resource.instanceType;
  planned.resource.labelSelector = { matchLabels: { apps: `phi-3-planned-${run}` } };
  for (const ws of [fixed, planned]) await operator.client.create(resources.workspaces, ws);
  return Promise.all(
    [fixed, planned].map((ws) => {
      let last: Ws | undefined;
      return until(
        () => `${ws.metadata!.name} to be ready: ${JSON.stringify(last?.status?.conditions)}`,
        async () => {
          last = await operator.client.get<Ws>(resources.workspaces, ws.metadata!.name!, ns);
          return condition(last, "WorkspaceReady") === "True" ? last : undefined;
        },
        90_000,
      );
    }),
  );
}

/** A one-GPU pod for the test's kube-scheduler, which asks the operator's extender. */
async function placeThroughExtender(ns: string): Promise<string> {
  await operator.client.create<Pod>(resources.pods, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "gpu-job", namespace: ns },
    spec: {
      schedulerName,
      nodeSelector: { [extenderNodeLabel]: run },
      containers: [
        { name: "main", image: "example/gpu:1", resources: { limits: { "nvidia.com/gpu": "1" } } },
      ],
    },
  } as Pod);
  return until(
    () => `the GPU pod to be bound:\n${scheduler?.logTail()}`,
    async () => (await operator.client.get<Pod>(resources.pods, "gpu-job", ns)).spec?.nodeName,
  );
}

/** Polls until the query returns a sample with a number (histogram_quantile gives NaN without data). */
async function data(expr: string, timeoutMs = 60_000): Promise<Sample[]> {
  let last: Sample[] = [];
  return until(
    () => `data for ${expr} (last result: ${JSON.stringify(last)})`,
    async () => {
      last = await prometheus!.query(expr);
      return last.some((s) => Number.isFinite(s.value)) ? last : undefined;
    },
    timeoutMs,
  );
}

describe("Prometheus scraping the operator", () => {
  it("has data for every query of the Grafana dashboard", async () => {
    namespace = await cluster.newNamespace("prometheus");
    const ns = namespace;
    // The first launch fails and is retried, so the failure counter moves.
    operator.cloud.faults.failNextLaunches(1, "transient");
    await applyWorkspaces(ns);

    const machines = (await operator.client.list<Machine & KubeObject>(resources.machines)).items.filter(
      (m) => m.metadata?.labels?.[workspaceNamespaceLabel] === ns,
    );
    const gpuNodes = await Promise.all(
      machines.map((m) => operator.client.get<Node>(resources.nodes, m.status!.nodeName!)),
    );
    expect(gpuNodes.length).toBeGreaterThanOrEqual(2);
    dcgm!.serve(
      gpuNodes.map((n) => ({
        name: n.metadata!.name!,
        gpus: Number(n.status?.allocatable?.["nvidia.com/gpu"] ?? 0),
        model: n.metadata?.labels?.[gpuProductLabel] ?? "NVIDIA GPU",
        utilization,
      })),
    );
    expect(await placeThroughExtender(ns)).toBe(extenderNode);

    const dashboard = loadDashboard();
    const queries = dashboardQueries(dashboard).map((q) => ({
      ...q,
      expr: substituteVariables(q.expr, dashboard.templating.list),
    }));
    expect(queries.length).toBeGreaterThan(10);
    const missing = (
      await Promise.all(
        queries.map((q) =>
          data(q.expr).then(
            () => undefined,
            (e: unknown) => `${q.where}: ${String(e)}`,
          ),
        ),
      )
    ).filter((m) => m !== undefined);
    expect(missing).toEqual([]);

    // The data says what happened, not only that something was scraped.
    const one = async (expr: string) => (await data(expr))[0]!.value;
    expect(await one('max(kaito:gpu_capacity:sum_by_sku{sku="Standard_NC6s_v3"})')).toBeGreaterThanOrEqual(1);
    expect(await one('max by (phase) (kaito_workspaces{phase="Ready"})')).toBeGreaterThanOrEqual(2);
    expect(await one("max(kaito_plan_cost_per_hour)")).toBeGreaterThanOrEqual(
      findSku("Standard_NC6s_v3")!.pricePerHour,
    );
    expect(
      await one('sum(increase(kaito_machine_provisioning_failures_total{reason="LaunchFailed"}[10m]))'),
    ).toBeGreaterThan(0);
    expect(await one('sum(kaito_extender_requests_total{verb="bind",code="200"})')).toBeGreaterThanOrEqual(1);
    const utilisation = await data("kaito:gpu_utilization:ratio_avg_by_node_sku");
    for (const n of gpuNodes) {
      expect(
        utilisation.find((s) => s.metric.node === n.metadata!.name)?.value,
        n.metadata!.name,
      ).toBeCloseTo(utilization / 100);
    }
  });

  it("loads every rule of deploy/monitoring and evaluates each without error", async () => {
    // The API lists groups in its own order; within a group, rules keep the file's order.
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    const expected = loadRules()
      .map((g) => ({ name: g.name, rules: g.rules.map((r) => r.record ?? r.alert) }))
      .sort(byName);
    let loaded: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] = [];
    await until(
      () => `every rule to be evaluated without error: ${JSON.stringify(loaded)}`,
      async () => {
        loaded = await prometheus!.rules();
        return loaded.every((g) => g.rules.every((r) => r.health === "ok")) ? true : undefined;
      },
      30_000,
    );
    const actual = loaded.map((g) => ({ name: g.name, rules: g.rules.map((r) => r.name) })).sort(byName);
    expect(actual).toEqual(expected);
  });
});
