// npm run bench:controller [-- --workspaces 500 --boot-delay 1 --node-provisioner builtin,karpenter]
//
// Applies N Workspaces at once to a fresh local cluster with the operator running in its own
// process, and reports the time until all are ready, reconcile p50/p99, API requests per
// workspace and the manager's peak RSS. The baseline, measured first in the same run on the same
// cluster, creates N GPU nodes and N GPU pods directly through the API: what Kubernetes itself
// needs for the same objects, so the ratio is the operator's own cost. With several node
// provisioners (builtin, karpenter) the same Workspaces are applied under each in turn, on the same
// cluster, and the times are compared with the first: karpenter runs the real Karpenter (kwok
// provider) with the same boot delay as the local cloud's.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { freePort } from "../../localcluster/ports.ts";
import { kwokNodeAnnotation } from "../../localcluster/components.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { kubeSchedulerConfig } from "../../scheduler/index.ts";
import type { Workspace } from "../../crds/index.ts";
import {
  ensureKarpenter,
  installKarpenterCrds,
  startKarpenter,
  type RunningKarpenter,
} from "../../localcluster/karpenter.ts";
import { karpenterInstanceTypes } from "../../provisioner/cloud/local/index.ts";

const { values } = parseArgs({
  options: {
    workspaces: { type: "string", default: "500" },
    "boot-delay": { type: "string", default: "1" },
    "node-provisioner": { type: "string", default: "builtin" },
  },
});
const n = Number(values.workspaces);
const modes = values["node-provisioner"]!.split(",").map((m) => m.trim());
for (const m of modes)
  if (m !== "builtin" && m !== "karpenter") {
    process.stderr.write(`--node-provisioner takes builtin and/or karpenter, got "${m}".\n`);
    process.exit(2);
  }
const repo = path.resolve(import.meta.dirname, "../..");
const namespaces = Array.from({ length: Math.max(1, Math.ceil(n / 50)) }, (_, i) => `bench-${i}`);
const log = (line: string) => process.stderr.write(`${line}\n`);

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return (performance.now() - started) / 1000;
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket holding the rank. */
function quantile(text: string, metric: string, labels: string, q: number): number {
  const buckets: [number, number][] = [];
  const re = new RegExp(`^${metric}_bucket\\{(.*)\\} (\\S+)$`, "gm");
  for (const m of text.matchAll(re)) {
    if (!m[1]!.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(m[1]!)![1]!;
    buckets.push([le === "+Inf" ? Infinity : Number(le), Number(m[2])]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return NaN;
  const rank = q * total;
  let prev: [number, number] = [0, 0];
  for (const b of buckets) {
    if (b[1] >= rank) {
      if (b[0] === Infinity) return prev[0];
      return prev[0] + ((b[0] - prev[0]) * (rank - prev[1])) / Math.max(1e-9, b[1] - prev[1]);
    }
    prev = b;
  }
  return NaN;
}

function sum(text: string, metric: string): number {
  let total = 0;
  for (const m of text.matchAll(new RegExp(`^${metric}(\\{[^}]*\\})? (\\S+)$`, "gm"))) total += Number(m[2]);
  return total;
}

const extenderPort = await freePort();
const scheduler = kubeSchedulerConfig({ url: `http://127.0.0.1:${extenderPort}` });
const cluster = await startLocalCluster({
  crdDir: path.join(repo, "crds"),
  schedulerConfig: { extenders: scheduler.extenders },
  log,
});
// No client-side limit: the baseline is what the API server itself needs.
const client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }), {
  maxSockets: 16,
  rateLimit: false,
});
const [metricsPort, healthPort] = [await freePort(), await freePort()];
const karpenterInstall = modes.includes("karpenter") ? await ensureKarpenter({ log }) : undefined;
let karpenter: RunningKarpenter | undefined;
const target = { server: cluster.server, caPem: cluster.caPem, token: cluster.adminToken };
// A karpenter-mode manager watches NodeClaims: their CRD is there before any manager starts.
if (karpenterInstall) await installKarpenterCrds(target, karpenterInstall.crdDir);

/** One manager process in the given mode, as `kaito controller` runs it. */
function startManager(mode: string) {
  return spawn(
    path.join(repo, "node_modules/.bin/node"),
    [
      "cli/main.ts",
      "controller",
      "--kubeconfig",
      cluster.kubeconfigPath,
      "--metrics-bind-address",
      `127.0.0.1:${metricsPort}`,
      "--health-probe-bind-address",
      `127.0.0.1:${healthPort}`,
      "--planner-bind-address",
      "127.0.0.1:0",
      "--extender-bind-address",
      `127.0.0.1:${extenderPort}`,
      // The admission webhook needs a Service the API server reaches it through: not here.
      "--components",
      "workspace,provisioner,planner,extender",
      ...(mode === "karpenter"
        ? ["--node-provisioner", "karpenter", "--node-class", "karpenter.kwok.sh/KWOKNodeClass/default"]
        : ["--boot-delay", values["boot-delay"]!]),
      "--log-level",
      "error",
    ],
    { cwd: repo, stdio: ["ignore", "ignore", "inherit"] },
  );
}
let manager = startManager(modes[0]!);
const stopManager = async () => {
  if (manager.exitCode !== null) return;
  manager.kill("SIGTERM");
  await new Promise((r) => manager.once("exit", r));
};
try {
  await until(
    "the manager to be ready",
    async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.ok ?? false,
    60_000,
  );
  for (const ns of namespaces) await client.create(resources.namespaces, { metadata: { name: ns } });
  await until(
    "default ServiceAccounts",
    async () => {
      const sas = await client.list(resources.serviceAccounts, { fieldSelector: "metadata.name=default" });
      return namespaces.every((ns) => sas.items.some((s) => s.metadata?.namespace === ns));
    },
    60_000,
  );

  // Baseline: the same number of GPU nodes and GPU pods, created directly.
  log(`baseline: ${n} GPU nodes and ${n} GPU pods through the API`);
  const baselineStart = performance.now();
  await pool([...Array(n).keys()], 16, (i) =>
    client.create(resources.nodes, {
      metadata: {
        name: `baseline-${i}`,
        annotations: { [kwokNodeAnnotation]: "fake" },
        labels: { "kubernetes.io/hostname": `baseline-${i}`, role: "baseline" },
      },
      status: { capacity: { cpu: "6", memory: "112Gi", pods: "110", "nvidia.com/gpu": "1" } },
    } as KubeObject),
  );
  await pool([...Array(n).keys()], 16, (i) =>
    client.create(resources.pods, {
      metadata: { name: `baseline-${i}`, namespace: namespaces[i % namespaces.length] },
      spec: {
        nodeSelector: { role: "baseline" },
        containers: [
          { name: "model", image: "example/model:1", resources: { limits: { "nvidia.com/gpu": "1" } } },
        ],
      },
    } as KubeObject),
  );
  const running = async () =>
    (
      await client.list<KubeObject & { status?: { phase?: string } }>(resources.pods, { labelSelector: "" })
    ).items.filter((p) => p.metadata?.name?.startsWith("baseline-") && p.status?.phase === "Running").length;
  await until("the baseline pods to run", async () => (await running()) === n, 15 * 60_000);
  const baselineSeconds = (performance.now() - baselineStart) / 1000;
  log(`baseline: ${baselineSeconds.toFixed(1)} s; cleaning up`);
  await pool([...Array(n).keys()], 16, (i) =>
    client.delete(resources.pods, `baseline-${i}`, namespaces[i % namespaces.length]),
  );
  await pool([...Array(n).keys()], 16, (i) => client.delete(resources.nodes, `baseline-${i}`));
  await until(
    "the baseline to be gone",
    async () => (await client.list(resources.nodes, { labelSelector: "role=baseline" })).items.length === 0,
    5 * 60_000,
  );

  const results: { mode: string; seconds: number; rows: string[][] }[] = [];
  for (const [round, mode] of modes.entries()) {
    // Karpenter runs only for its own round, so it costs the other modes no CPU.
    if (mode === "karpenter" && !karpenter) {
      karpenter = await startKarpenter({
        install: karpenterInstall!,
        kubeconfigPath: cluster.kubeconfigPath,
        target,
        dir: path.join(cluster.dir, "karpenter"),
        instanceTypes: karpenterInstanceTypes(),
        registrationDelaySeconds: Number(values["boot-delay"]),
      });
    }
    if (round > 0) {
      await stopManager();
      manager = startManager(mode);
      await until(
        `the ${mode} manager to be ready`,
        async () =>
          (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.ok ?? false,
        60_000,
      );
    }
    results.push(await measure(mode, round));
  }
  process.stdout.write(
    `\ncontroller benchmark: Node ${process.version}, load average ${(await import("node:os"))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n`,
  );
  const rows = [
    ["workspaces", String(n)],
    [
      "baseline: N GPU nodes + N GPU pods through the API, until all Running",
      `${baselineSeconds.toFixed(1)} s`,
    ],
    ...results.flatMap((r) => r.rows),
    ...results
      .slice(1)
      .map((r) => [
        `ratio ${r.mode} / ${results[0]!.mode} (time until all WorkspaceReady)`,
        (r.seconds / results[0]!.seconds).toFixed(2),
      ]),
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  for (const [k, v] of rows) process.stdout.write(`${k!.padEnd(width)}  ${v}\n`);

  /** Applies the N Workspaces under the running manager, times them to ready, then deletes them. */
  async function measure(
    mode: string,
    round: number,
  ): Promise<{ mode: string; seconds: number; rows: string[][] }> {
    const before = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const requestsBefore = sum(before, "rest_client_requests_total");
    log(`operator (${mode}): applying ${n} Workspaces at once (half on Standard_NC6s_v3, half planned)`);
    const start = performance.now();
    await pool([...Array(n).keys()], 16, (i) => {
      const named = i % 2 === 0;
      const ws: Workspace & KubeObject = {
        apiVersion: "kaito.sh/v1alpha1",
        kind: "Workspace",
        metadata: { name: `ws-${round}-${i}`, namespace: namespaces[i % namespaces.length] },
        resource: {
          ...(named ? { instanceType: "Standard_NC6s_v3" } : {}),
          labelSelector: { matchLabels: { apps: `ws-${i}` } },
        },
        inference: { preset: { name: "phi-3-mini-4k-instruct" } },
      };
      return client.create(resources.workspaces, ws);
    });
    let ready = 0;
    await until(
      `every workspace to be ready (${mode})`,
      async () => {
        const list = await client.list<Workspace & KubeObject>(resources.workspaces);
        ready = list.items.filter((w) =>
          w.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True"),
        ).length;
        return ready === n;
      },
      30 * 60_000,
    );
    const operatorSeconds = (performance.now() - start) / 1000;
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const requests = sum(metrics, "rest_client_requests_total") - requestsBefore;
    const status = readFileSync(`/proc/${manager.pid}/status`, "utf8");
    const peakRssMiB = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
    const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
    const rows = [
      [`operator (${mode}): N Workspaces until all WorkspaceReady`, `${operatorSeconds.toFixed(1)} s`],
      [`ratio operator (${mode}) / baseline`, (operatorSeconds / baselineSeconds).toFixed(2)],
      [
        `workspace reconcile p50 / p99 (${mode})`,
        `${ms(quantile(metrics, "kaito_reconcile_duration_seconds", 'controller="workspace"', 0.5))} / ${ms(quantile(metrics, "kaito_reconcile_duration_seconds", 'controller="workspace"', 0.99))}`,
      ],
      ...(mode === "builtin"
        ? [
            [
              "machine reconcile p50 / p99",
              `${ms(quantile(metrics, "kaito_reconcile_duration_seconds", 'controller="machine"', 0.5))} / ${ms(quantile(metrics, "kaito_reconcile_duration_seconds", 'controller="machine"', 0.99))}`,
            ],
          ]
        : []),
      [`API requests by the manager per workspace (${mode})`, (requests / n).toFixed(1)],
      [`manager peak RSS (${mode})`, `${peakRssMiB.toFixed(0)} MiB`],
    ];
    // Leave the cluster as found for the next mode: Workspaces, and with them their nodes, gone.
    await pool([...Array(n).keys()], 16, (i) =>
      client.delete(resources.workspaces, `ws-${round}-${i}`, namespaces[i % namespaces.length]),
    );
    await until(
      `the ${mode} workspaces and their nodes to be gone`,
      async () =>
        (await client.list(resources.workspaces)).items.length === 0 &&
        (await client.list(resources.nodes, { labelSelector: "kaito.sh/workspace" })).items.length === 0,
      10 * 60_000,
    );
    return { mode, seconds: operatorSeconds, rows };
  }
} finally {
  await stopManager();
  client.close();
  await karpenter?.stop();
  await cluster.stop();
}
