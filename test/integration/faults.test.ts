// The manager against an API server that misbehaves, through a loopback proxy that injects the
// faults (test/harness/fault-proxy.ts): one that stops answering mid-request, and a storm of 429s.
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.ts";
import { until } from "../harness/until.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { isNotLeader, isRequestTimeout } from "../../kube/errors.ts";
import { RestClientMetrics } from "../../kube/http/metrics.ts";
import { resources } from "../../kube/resources.ts";
import { ControllerBuilder } from "../../kube/runtime/builder.ts";
import { isLeadershipLost } from "../../kube/runtime/leader.ts";
import { Manager } from "../../kube/runtime/manager.ts";
import type { Reconciler } from "../../kube/runtime/reconciler.ts";
import { jsonLogger } from "../../lib/log.ts";

const cluster = useTestCluster();
let admin: KubeClient;
let proxy: FaultProxy;
let namespace: string;
beforeAll(async () => {
  const kc = loadKubeConfig({ kubeconfig: cluster.kubeconfigPath });
  admin = new KubeClient(kc);
  proxy = await startFaultProxy(kc);
  namespace = await cluster.newNamespace("faults");
});
afterAll(async () => {
  admin?.close();
  await proxy?.close();
});

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const isWrite = (method: string) => !["GET", "HEAD"].includes(method);
const configMap = (name: string, input: string): ConfigMap => ({
  metadata: { name, namespace },
  data: { input },
});

/** Copies data.input to data.output: one read from the cache, one write per change. */
function copier(client: KubeClient): Reconciler<ConfigMap> {
  return {
    async reconcile(cm) {
      if (cm.data?.input === undefined || cm.data.output === cm.data.input) return;
      await client.patch(
        resources.configMaps,
        cm.metadata!.name!,
        namespace,
        { data: { output: cm.data.input } },
        "merge",
      );
    },
  };
}

describe("an API server that stops answering mid-request", () => {
  it("ends every call at its timeout, and the controller catches up once the server answers again", async () => {
    proxy.setMode({ kind: "pass" });
    const timeoutMs = 1_500;
    const client = new KubeClient(proxy.kubeConfig(), { timeoutMs });
    const attempts: { code: string; durationMs: number; method: string }[] = [];
    client.observe({ attempt: (a) => attempts.push(a) });
    const lines: string[] = [];
    const manager = new Manager({
      client,
      registry: new Registry(),
      log: jsonLogger({ write: (l) => lines.push(l) }),
    });
    const informer = manager.informer<ConfigMap>(resources.configMaps, { namespace });
    manager.addController(
      ControllerBuilder.named<ConfigMap>("copier")
        .for(informer)
        .complete(copier(manager.client), { metrics: manager.metrics, log: manager.log }),
    );
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    try {
      await admin.create(resources.configMaps, configMap("before", "1"));
      await until("the first copy", async () =>
        informer.get(`${namespace}/before`)?.data?.output === "1" ? true : undefined,
      );

      // The server stops answering: the open watch still brings news, every new request hangs.
      proxy.setMode({ kind: "hang" });
      const hangStarted = Date.now();
      await admin.create(resources.configMaps, configMap("during", "2"));
      const direct = await Promise.allSettled([
        client.get(resources.configMaps, "before", namespace),
        client.list(resources.configMaps, { namespace }),
        client.patch(resources.configMaps, "before", namespace, { data: { touched: "yes" } }, "merge"),
      ]);
      const directMs = Date.now() - hangStarted;
      for (const r of direct) expect(r.status === "rejected" && isRequestTimeout(r.reason)).toBe(true);
      // Bounded: without a timeout these three would still be waiting.
      expect(directMs).toBeGreaterThanOrEqual(timeoutMs);
      expect(directMs).toBeLessThan(timeoutMs + 5_000);
      // The controller saw "during" on its watch and its writes timed out too, and were retried.
      await until("a reconcile that timed out", async () =>
        lines.some((l) => l.includes("reconcile failed") && l.includes("did not answer within 1.5 s"))
          ? true
          : undefined,
      );

      proxy.setMode({ kind: "pass" });
      await until("the copy made after the server came back", async () =>
        informer.get(`${namespace}/during`)?.data?.output === "2" ? true : undefined,
      );
      const hung = attempts.filter((a) => a.code === "<error>");
      expect(hung.length).toBeGreaterThanOrEqual(4);
      for (const a of hung) expect(a.durationMs).toBeLessThan(timeoutMs + 5_000);
    } finally {
      stop.abort();
      await running;
      client.close();
    }
  });

  it("makes a leader stop, and stop writing, before its lease can pass to another replica", async () => {
    proxy.setMode({ kind: "pass" });
    const timing = { leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 1_000 };
    const client = new KubeClient(proxy.kubeConfig(), { timeoutMs: 30_000 });
    const manager = new Manager({
      client,
      registry: new Registry(),
      leaderElection: { namespace, name: "faults-leader", identity: "frozen-out", ...timing },
      gracefulShutdownMs: 2_000,
    });
    // Leader-only work that writes every 200 ms, as a busy controller would, and is slow to stop:
    // it keeps going for a second after its signal aborts. Only the fence can stop those writes.
    let writesRefused = 0;
    manager.add({
      name: "writer",
      needsLeaderElection: true,
      async start(signal) {
        await admin.create(resources.configMaps, configMap("written", "0")).catch(() => undefined);
        let stopAt = Infinity;
        signal.addEventListener("abort", () => (stopAt = Date.now() + 1_000), { once: true });
        for (let i = 1; Date.now() < stopAt; i++) {
          void manager.client
            .patch(resources.configMaps, "written", namespace, { data: { input: String(i) } }, "merge")
            .catch((e: unknown) => {
              if (isNotLeader(e)) writesRefused++;
            });
          await new Promise((r) => setTimeout(r, 200));
        }
      },
    });
    const stop = new AbortController();
    const outcome = manager.start(stop.signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    try {
      await until("leadership", async () => (manager.isLeader() ? true : undefined), 30_000);
      await until("a renewal", async () =>
        proxy.requests.some((r) => r.method === "PUT" && r.url.includes("faults-leader") && r.status === 200)
          ? true
          : undefined,
      );
      proxy.setMode({ kind: "hang" });
      const error = await outcome;
      expect(isLeadershipLost(error)).toBe(true);
      expect(manager.fence!.mayWrite()).toBe(false);
      const renewals = proxy.requests.filter(
        (r) => r.method === "PUT" && r.url.includes("faults-leader") && r.status === 200,
      );
      // A rival takes over no earlier than a lease duration after the last renewal it saw; the
      // renewal was sent no later than it reached the proxy.
      const rivalMayStart = renewals.at(-1)!.at + timing.leaseDurationMs;
      const writes = proxy.requests.filter((r) => isWrite(r.method) && !r.url.includes("faults-leader"));
      expect(writes.length).toBeGreaterThan(0);
      expect(Math.max(...writes.map((w) => w.at))).toBeLessThan(rivalMayStart);
      expect(writesRefused).toBeGreaterThan(0);
    } finally {
      stop.abort();
      await outcome;
      proxy.setMode({ kind: "pass" });
      client.close();
    }
  });
});

describe("a storm of 429s", () => {
  it("is paced by Retry-After: each call waits what the server asks before it tries again", async () => {
    proxy.setMode({ kind: "pass" });
    const names = Array.from({ length: 8 }, (_, i) => `storm-${i}`);
    await Promise.all(names.map((n) => admin.create(resources.configMaps, configMap(n, n))));
    const client = new KubeClient(proxy.kubeConfig(), { timeoutMs: 30_000 });
    const registry = new Registry();
    new RestClientMetrics(registry).attach(client);
    const first = proxy.requests.length;
    proxy.setMode({ kind: "throttle", retryAfterSeconds: 1 });
    const calls = Promise.all(names.map((n) => client.get<ConfigMap>(resources.configMaps, n, namespace)));
    // Three rounds of 429s, then the server has room again.
    await until("three rounds of 429s", async () =>
      proxy.requests.slice(first).filter((r) => r.status === 429).length >= 3 * names.length
        ? true
        : undefined,
    );
    proxy.setMode({ kind: "pass" });
    const got = await calls;
    expect(got.map((c) => c.data?.input)).toEqual(names);
    const seen = proxy.requests.slice(first);
    for (const name of names) {
      const tries = seen.filter((r) => r.url.endsWith(`/configmaps/${name}`));
      expect(tries.at(-1)!.status).toBe(200);
      expect(tries.length).toBeGreaterThanOrEqual(3);
      // Every attempt after a 429 came at least the asked second later (timers may fire late, never early).
      for (let i = 1; i < tries.length; i++)
        expect(tries[i]!.at - tries[i - 1]!.at).toBeGreaterThanOrEqual(990);
    }
    const text = await registry.metrics();
    expect(text).toMatch(
      /rest_client_request_retries_total\{code="429",verb="GET",host="127\.0\.0\.1:\d+"\} (\d+)/,
    );
    expect(text).toMatch(/rest_client_requests_total\{code="429",method="GET",host="127\.0\.0\.1:\d+"\} \d+/);
    client.close();
  });
});
