import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { ControllerBuilder } from "../../kube/runtime/builder.ts";
import { Manager } from "../../kube/runtime/manager.ts";
import type { Reconciler } from "../../kube/runtime/reconciler.ts";

const cluster = useTestCluster();
let client: KubeClient;
let namespace: string;
beforeAll(async () => {
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  namespace = await cluster.newNamespace("runtime");
});
afterAll(() => client?.close());

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("controller runtime on a real API server", () => {
  it("reconciles every object, retries failures with backoff, and reports controller-runtime metrics", async () => {
    const manager = new Manager({
      client,
      registry: new Registry(),
      metricsAddress: "127.0.0.1:0",
      healthAddress: "127.0.0.1:0",
    });
    const informer = manager.informer<ConfigMap>(resources.configMaps, { namespace });
    let failOnce = true;
    // Copies data.input to data.output; fails the first time it sees "flaky" to exercise retries.
    const reconciler: Reconciler<ConfigMap> = {
      async reconcile(cm) {
        if (cm.metadata?.name === "flaky" && failOnce) {
          failOnce = false;
          throw new Error("transient");
        }
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
    manager.addController(
      ControllerBuilder.named<ConfigMap>("copier")
        .for(informer)
        .withConcurrency(2)
        .complete(reconciler, { metrics: manager.metrics }),
    );
    const stop = new AbortController();
    const running = manager.start(stop.signal);
    try {
      for (const name of ["a", "b", "flaky"]) {
        await client.create(resources.configMaps, {
          metadata: { name, namespace },
          data: { input: name.toUpperCase() },
        } as ConfigMap);
      }
      await until("every output", () =>
        ["a", "b", "flaky"].every((n) => informer.get(`${namespace}/${n}`)?.data?.output === n.toUpperCase()),
      );
      const [metricsPort, healthPort] = manager.ports();
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(text).toMatch(/controller_runtime_reconcile_total\{controller="copier",result="error"\} 1/);
      expect(text).toMatch(/controller_runtime_reconcile_total\{controller="copier",result="success"\} \d+/);
      expect(text).toMatch(/kaito_reconcile_duration_seconds_count\{controller="copier"\} \d+/);
      expect(text).toMatch(/workqueue_retries_total\{name="copier"\} 1/);
      expect((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).toBe(200);
    } finally {
      stop.abort();
      await running;
    }
  });

  it("elects one leader among two managers and hands over when the leader stops", async () => {
    const leaderElection = (identity: string) => ({
      namespace,
      name: "runtime-test-leader",
      identity,
      leaseDurationMs: 3_000,
      renewDeadlineMs: 2_000,
      retryPeriodMs: 300,
    });
    const leads: string[] = [];
    const make = (identity: string) => {
      const m = new Manager({ client, registry: new Registry(), leaderElection: leaderElection(identity) });
      m.add({
        name: "marker",
        needsLeaderElection: true,
        start: async (signal) => {
          leads.push(identity);
          await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
        },
      });
      return m;
    };
    const one = make("one");
    const two = make("two");
    const stopOne = new AbortController();
    const stopTwo = new AbortController();
    const runningOne = one.start(stopOne.signal);
    await until("the first leader", () => one.isLeader());
    const runningTwo = two.start(stopTwo.signal);
    await new Promise((r) => setTimeout(r, 1500));
    expect(two.isLeader()).toBe(false);
    expect(leads).toEqual(["one"]);

    stopOne.abort();
    await runningOne;
    await until("the second to take over", () => two.isLeader(), 10_000);
    expect(leads).toEqual(["one", "two"]);
    stopTwo.abort();
    await runningTwo;
  });
});
