import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log.ts";
import { terminationFinalizer, type Machine } from "../../crds/index.ts";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { isNotFound } from "../../kube/errors.ts";
import { MemoryEventRecorder } from "../../kube/events.ts";
import { resources } from "../../kube/resources.ts";
import { randomSuffix, useTestCluster } from "../../test/harness/index.ts";
import { InsufficientCapacityError } from "../cloud/errors.ts";
import { FakeCloudProvider } from "../cloud/fake/index.ts";
import { machine, node } from "../fixtures.ts";
import type { Node } from "../kube-types.ts";
import { conditionOf } from "./conditions.ts";
import { MachineController } from "./controller.ts";
import { GarbageCollector } from "./garbagecollection.ts";
import { ClientNodeReader, registeredLabel } from "./nodes.ts";

const cluster = useTestCluster();
let client: KubeClient;
beforeAll(() => {
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
});
afterAll(() => client?.close());

const minute = 60_000;
const ctx = { log: silentLogger, signal: new AbortController().signal };
let clock: FakeClock;
let cloud: FakeCloudProvider;
let recorder: MemoryEventRecorder;
let controller: MachineController;
const createdMachines: string[] = [];
const createdNodes: string[] = [];

beforeEach(() => {
  // The API server stamps creationTimestamp with real time; the fake clock starts there too, on a
  // whole second because conditions keep second precision.
  clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
  cloud = new FakeCloudProvider({ clock });
  recorder = new MemoryEventRecorder();
  controller = new MachineController({
    client,
    cloud,
    clock,
    recorder,
    nodes: new ClientNodeReader(client),
  });
});

afterEach(async () => {
  for (const name of createdMachines.splice(0)) {
    await client
      .patch(resources.machines, name, undefined, { metadata: { finalizers: null } }, "merge")
      .catch(() => undefined);
    await client.delete(resources.machines, name).catch(() => undefined);
  }
  for (const name of createdNodes.splice(0))
    await client.delete(resources.nodes, name).catch(() => undefined);
});

async function createMachine(
  m: Machine = machine({ metadata: { name: `m-${randomSuffix()}` } }),
): Promise<Machine> {
  createdMachines.push(m.metadata!.name!);
  return client.create<Machine>(resources.machines, m);
}

/** Reads the Machine afresh and reconciles it, as the controller's worker would. */
async function reconcile(name: string) {
  const current = await client.get<Machine>(resources.machines, name);
  return controller.reconcile(current, ctx);
}

const get = (name: string) => client.get<Machine>(resources.machines, name);

async function exists(resource: typeof resources.machines | typeof resources.nodes, name: string) {
  try {
    await client.get(resource, name);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/** The node a booted instance would register: Ready, with the GPU allocatable. */
async function registerNode(providerID: string, o: { gpus?: number } = {}): Promise<Node> {
  const n = node({ name: `n-${randomSuffix()}`, providerID, gpus: o.gpus });
  createdNodes.push(n.metadata!.name!);
  const created = await client.create<Node>(resources.nodes, n);
  const name = created.metadata!.name!;
  // Whether or not create kept the status, set it the way a kubelet does (kube-controller-manager
  // writes to new nodes too, so no resourceVersion).
  await client.patch(resources.nodes, name, undefined, { status: n.status }, "merge", {
    subresource: "status",
  });
  // kube-controller-manager taints a node that has not reported Ready (node.kubernetes.io/not-ready)
  // and lifts the taint soon after it does; initialization rightly waits for that.
  for (let i = 0; ; i++) {
    const current = await client.get<Node>(resources.nodes, name);
    const ephemeral = (current.spec?.taints ?? []).some((t) => t.key.startsWith("node.kubernetes.io/"));
    if (!ephemeral || i >= 100) return current;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("Machine lifecycle", () => {
  it("launches, waits for the node, then registers and initializes it", async () => {
    const m = await createMachine();
    const name = m.metadata!.name!;
    expect(await reconcile(name)).toEqual({ requeueAfterMs: 15 * minute });

    let current = await get(name);
    expect(current.metadata?.finalizers).toContain(terminationFinalizer);
    expect(current.status?.providerID).toBe(`fake://${name}`);
    expect(current.status?.capacity?.["nvidia.com/gpu"]).toBe("1");
    expect(conditionOf(current, "MachineLaunched")?.status).toBe("True");
    expect(conditionOf(current, "MachineRegistered")).toMatchObject({
      status: "Unknown",
      reason: "NodeNotFound",
    });
    expect(conditionOf(current, "Ready")).toMatchObject({ status: "Unknown", reason: "NodeNotFound" });

    // The deadline is computed, not polled: five minutes on, the requeue is ten minutes away.
    clock.step(5 * minute);
    expect(await reconcile(name)).toEqual({ requeueAfterMs: 10 * minute });

    const registered = await registerNode(current.status!.providerID!, { gpus: 0 });
    await reconcile(name);
    current = await get(name);
    expect(current.status?.nodeName).toBe(registered.metadata?.name);
    expect(conditionOf(current, "MachineRegistered")?.status).toBe("True");
    expect(conditionOf(current, "MachineInitialized")).toMatchObject({
      status: "Unknown",
      reason: "ResourceNotRegistered",
    });
    const synced = await client.get<Node>(resources.nodes, registered.metadata!.name!);
    expect(synced.metadata?.labels).toMatchObject({ apps: "phi-3", [registeredLabel]: "true" });
    expect(synced.spec?.taints).toContainEqual({ key: "sku", value: "gpu", effect: "NoSchedule" });
    expect(synced.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "Machine",
      name,
      uid: current.metadata?.uid,
    });

    // The device plugin registers the GPU.
    await client.patch(
      resources.nodes,
      synced.metadata!.name!,
      undefined,
      { status: { allocatable: { "nvidia.com/gpu": "1" } } },
      "merge",
      { subresource: "status" },
    );
    expect(await reconcile(name)).toEqual({});
    current = await get(name);
    expect(conditionOf(current, "MachineInitialized")?.status).toBe("True");
    expect(conditionOf(current, "Ready")).toMatchObject({ status: "True", reason: "Ready" });
    expect(recorder.events.map((e) => e.reason)).toEqual(["Launched", "Registered", "Initialized"]);
    expect(cloud.launched).toBe(1);
  });

  it("reports insufficient capacity as MachineLaunched False and does not retry", async () => {
    cloud.nextCreateError = new InsufficientCapacityError(
      "quota",
      "Standard_NC24ads_A100_v4",
      "the vCPU quota for standardNCADSA100v4Family is used up.",
    );
    const m = await createMachine();
    await reconcile(m.metadata!.name!);
    await reconcile(m.metadata!.name!);
    const current = await get(m.metadata!.name!);
    expect(conditionOf(current, "MachineLaunched")).toMatchObject({
      status: "False",
      reason: "QuotaExceeded",
      message: "the vCPU quota for standardNCADSA100v4Family is used up.",
    });
    expect(conditionOf(current, "Ready")).toMatchObject({ status: "False", reason: "QuotaExceeded" });
    expect(cloud.createCalls).toHaveLength(1);
  });

  it("writes what it learnt from a retryable launch failure, then throws for backoff", async () => {
    cloud.nextCreateError = new Error("connection reset");
    const m = await createMachine();
    await expect(reconcile(m.metadata!.name!)).rejects.toThrow("connection reset");
    expect(conditionOf(await get(m.metadata!.name!), "MachineLaunched")).toMatchObject({
      status: "Unknown",
      reason: "LaunchFailed",
    });
    await reconcile(m.metadata!.name!);
    expect(conditionOf(await get(m.metadata!.name!), "MachineLaunched")?.status).toBe("True");
  });

  it("deletes a Machine whose node has not registered 15 minutes after launch, and cleans up the instance", async () => {
    const m = await createMachine();
    const name = m.metadata!.name!;
    await reconcile(name);
    clock.step(14 * minute);
    await reconcile(name);
    expect((await get(name)).metadata?.deletionTimestamp).toBeUndefined();

    clock.step(2 * minute);
    await reconcile(name);
    expect((await get(name)).metadata?.deletionTimestamp).toBeDefined();
    expect(recorder.events.map((e) => e.reason)).toContain("RegistrationTimeout");

    // The first delete() starts the instance's deletion, the next one proves it gone.
    expect(await reconcile(name)).toEqual({ requeueAfterMs: 5_000 });
    expect(cloud.instances.size).toBe(0);
    expect(await reconcile(name)).toEqual({});
    expect(await exists(resources.machines, name)).toBe(false);
  });

  it("on deletion removes the node, then the instance until NotFound, then the finalizer", async () => {
    const m = await createMachine();
    const name = m.metadata!.name!;
    await reconcile(name);
    const registered = await registerNode(`fake://${name}`);
    await reconcile(name);
    expect(conditionOf(await get(name), "Ready")?.status).toBe("True");

    await client.delete(resources.machines, name);
    cloud.nextDeleteError = new Error("ARM is having a moment");
    await expect(reconcile(name)).rejects.toThrow("ARM is having a moment");
    expect(await exists(resources.nodes, registered.metadata!.name!)).toBe(false);
    expect(await exists(resources.machines, name)).toBe(true);

    expect(await reconcile(name)).toEqual({ requeueAfterMs: 5_000 });
    expect(await reconcile(name)).toEqual({});
    expect(await exists(resources.machines, name)).toBe(false);
    expect(cloud.instances.size).toBe(0);
  });

  it("deletes a registered Machine whose node disappeared, so it is replaced", async () => {
    const m = await createMachine();
    const name = m.metadata!.name!;
    await reconcile(name);
    const registered = await registerNode(`fake://${name}`);
    await reconcile(name);
    await client.delete(resources.nodes, registered.metadata!.name!);
    await reconcile(name);
    expect((await get(name)).metadata?.deletionTimestamp).toBeDefined();
    expect(recorder.events.map((e) => e.reason)).toContain("NodeDeleted");
  });
});

describe("garbage collection", () => {
  it("deletes instances without a Machine once past the grace period, and keeps the others", async () => {
    const kept = await createMachine();
    await reconcile(kept.metadata!.name!);
    const orphan = await cloud.create(machine({ metadata: { name: `gone-${randomSuffix()}` } }));
    const gc = new GarbageCollector({ client, cloud, clock, log: silentLogger }, { gracePeriodMs: minute });

    expect(await gc.collect()).toEqual([]);
    clock.step(2 * minute);
    expect(await gc.collect()).toEqual([orphan.providerID]);
    expect([...cloud.instances.keys()]).toEqual([`fake://${kept.metadata!.name}`]);
  });
});
