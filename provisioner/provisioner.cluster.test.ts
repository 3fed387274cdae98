// End to end: the manager runs the Machine controller over the local cloud, and kwok plays the
// nodes. Real time throughout (a short boot delay), as `kaito up` runs it.
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonLogger, silentLogger } from "../lib/log.ts";
import type { Machine } from "../crds/index.ts";
import { KubeClient } from "../kube/client.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { isNotFound } from "../kube/errors.ts";
import { MemoryEventRecorder } from "../kube/events.ts";
import { resources } from "../kube/resources.ts";
import { Manager } from "../kube/runtime/manager.ts";
import { randomSuffix, useTestCluster } from "../test/harness/index.ts";
import { LocalCloudProvider } from "./cloud/local/index.ts";
import { machine } from "./fixtures.ts";
import { registerProvisioner, type Node } from "./index.ts";
import { isNodeReady } from "./kube-types.ts";
import { conditionOf } from "./machine/conditions.ts";

const cluster = useTestCluster();
let client: KubeClient;
let cloud: LocalCloudProvider;
let registry: Registry;
const stop = new AbortController();
let running: Promise<void> | undefined;
const created: string[] = [];

beforeAll(() => {
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  cloud = new LocalCloudProvider({ client, bootDelayMs: 500, log: silentLogger });
  registry = new Registry();
  const manager = new Manager({
    client,
    registry,
    log: process.env.E2E_LOG ? jsonLogger({ level: "debug" }) : undefined,
  });
  registerProvisioner(manager, {
    cloud,
    recorder: new MemoryEventRecorder(),
    garbageCollection: { intervalMs: 500, gracePeriodMs: 1_000 },
  });
  running = manager.start(stop.signal);
});

afterAll(async () => {
  stop.abort();
  await running;
  for (const name of created) {
    await client
      .patch(resources.machines, name, undefined, { metadata: { finalizers: null } }, "merge")
      .catch(() => undefined);
    await client.delete(resources.machines, name).catch(() => undefined);
    await client.delete(resources.nodes, name).catch(() => undefined);
  }
  client?.close();
});

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function read<T>(resource: typeof resources.machines | typeof resources.nodes, name: string) {
  try {
    return await client.get<T & Machine>(resource, name);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

async function createMachine(): Promise<string> {
  const name = `e2e-${randomSuffix()}`;
  created.push(name);
  await client.create(resources.machines, machine({ metadata: { name } }));
  return name;
}

describe("provisioner with the local cloud", () => {
  it("takes a Machine to Ready on a GPU node, and deleting it removes node and instance", async () => {
    const name = await createMachine();
    const ready = await until("the Machine to be Ready", async () => {
      const m = await read<Machine>(resources.machines, name);
      return m && conditionOf(m, "Ready")?.status === "True" ? m : undefined;
    });
    for (const type of ["MachineLaunched", "MachineRegistered", "MachineInitialized"] as const) {
      expect(conditionOf(ready, type)?.status).toBe("True");
    }
    expect(ready.status).toMatchObject({ providerID: `kwok://${name}`, nodeName: name });
    const node = (await read<Node>(resources.nodes, name)) as Node;
    expect(isNodeReady(node)).toBe(true);
    expect(node.status?.allocatable?.["nvidia.com/gpu"]).toBe("1");
    expect(node.spec?.taints).toContainEqual({ key: "sku", value: "gpu", effect: "NoSchedule" });
    expect(node.metadata?.labels).toMatchObject({ apps: "phi-3", "kaito.sh/workspace": "phi-3" });

    const metrics = await registry.metrics();
    expect(metrics).toContain(`kaito_gpu_capacity{node="${name}",sku="Standard_NC24ads_A100_v4"} 1`);
    expect(metrics).toMatch(/kaito_machine_provisioning_duration_seconds_count\{sku="[^"]+"\} [1-9]/);

    await client.delete(resources.machines, name);
    await until("the Machine to be gone", async () =>
      (await read(resources.machines, name)) ? undefined : true,
    );
    expect(await read(resources.nodes, name)).toBeUndefined();
    expect((await cloud.list()).map((i) => i.machineName)).not.toContain(name);
  });

  it("reports an injected launch failure as MachineLaunched False with its reason", async () => {
    cloud.faults.failNextLaunches(1, "quota");
    const name = await createMachine();
    const failed = await until("MachineLaunched to fail", async () => {
      const m = await read<Machine>(resources.machines, name);
      return m && conditionOf(m, "MachineLaunched")?.status === "False" ? m : undefined;
    });
    expect(conditionOf(failed, "MachineLaunched")?.reason).toBe("QuotaExceeded");
    expect(conditionOf(failed, "Ready")).toMatchObject({ status: "False", reason: "QuotaExceeded" });
    expect(await read(resources.nodes, name)).toBeUndefined();

    await client.delete(resources.machines, name);
    await until("the failed Machine to be gone", async () =>
      (await read(resources.machines, name)) ? undefined : true,
    );
  });

  it("garbage-collects an instance that has no Machine", async () => {
    const name = `orphan-${randomSuffix()}`;
    created.push(name);
    await cloud.create(machine({ metadata: { name } }));
    expect(await read(resources.nodes, name)).toBeDefined();
    await until("the orphan to be collected", async () =>
      (await read(resources.nodes, name)) ? undefined : true,
    );
  });
});
