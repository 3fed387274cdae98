import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import { instanceTypeLabel, type Machine } from "../../../crds/index.ts";
import { KubeClient } from "../../../kube/client.ts";
import { loadKubeConfig } from "../../../kube/config.ts";
import { resources } from "../../../kube/resources.ts";
import { randomSuffix, useTestCluster } from "../../../test/harness/index.ts";
import { machine } from "../../fixtures.ts";
import { isNodeReady, type Node } from "../../kube-types.ts";
import { isInsufficientCapacity, isMachineNotFound } from "../errors.ts";
import { LocalCloudProvider } from "./cloudprovider.ts";
import { bootAnnotation } from "./node.ts";

const cluster = useTestCluster();
let client: KubeClient;
beforeAll(() => {
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
});
afterAll(() => client?.close());

const made: string[] = [];
afterEach(async () => {
  for (const name of made.splice(0)) await client.delete(resources.nodes, name).catch(() => undefined);
});

const bootDelayMs = 30_000;

function localMachine(sku = "Standard_NC24ads_A100_v4"): Machine {
  const m = machine({
    metadata: { name: `local-${randomSuffix()}` },
    sku,
    spec: {
      requirements: [{ key: instanceTypeLabel, operator: "In", values: [sku] }],
      taints: [{ key: "sku", value: "gpu", effect: "NoSchedule" }],
      startupTaints: [{ key: "example.com/driver", effect: "NoSchedule" }],
    },
  });
  made.push(m.metadata!.name!);
  return m;
}

const getNode = (name: string) => client.get<Node>(resources.nodes, name);

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("local cloud", () => {
  it("makes a NotReady GPU node that kwok makes Ready after the boot delay", async () => {
    const clock = new FakeClock(Date.now());
    const cloud = new LocalCloudProvider({ client, clock, bootDelayMs });
    const m = localMachine();
    const name = m.metadata!.name!;
    const instance = await cloud.create(m);
    expect(instance).toMatchObject({
      providerID: `kwok://${name}`,
      machineName: name,
      instanceType: "Standard_NC24ads_A100_v4",
      zone: "local-1",
    });
    expect(instance.capacity["nvidia.com/gpu"]).toBe("1");
    expect((await cloud.create(m)).providerID).toBe(instance.providerID);

    let node = await getNode(name);
    expect(node.spec?.providerID).toBe(`kwok://${name}`);
    expect(node.metadata?.labels).toMatchObject({
      "kubernetes.azure.com/accelerator": "nvidia",
      "nvidia.com/gpu.count": "1",
      "nvidia.com/gpu.memory": String(80 * 1024),
    });
    expect(node.metadata?.annotations).toHaveProperty(bootAnnotation);
    // kwok has adopted the node (it holds its lease) but leaves it NotReady while it boots.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(isNodeReady(await getNode(name))).toBe(false);

    clock.step(bootDelayMs);
    await cloud.settled();
    node = await getNode(name);
    expect(node.metadata?.annotations).not.toHaveProperty(bootAnnotation);
    expect(node.spec?.taints?.map((t) => t.key)).not.toContain("example.com/driver");
    const ready = await until("kwok to make the node Ready", async () => {
      const n = await getNode(name);
      return isNodeReady(n) ? n : undefined;
    });
    expect(ready.status?.allocatable?.["nvidia.com/gpu"]).toBe("1");

    expect((await cloud.list()).map((i) => i.machineName)).toContain(name);
    await cloud.delete(m);
    await expect(cloud.delete(m)).rejects.toSatisfy(isMachineNotFound);
    await expect(cloud.get(instance.providerID)).rejects.toSatisfy(isMachineNotFound);
  });

  it("finishes after a restart the boots that fell due while it was down", async () => {
    const clock = new FakeClock(Date.now());
    const before = new LocalCloudProvider({ client, clock: new FakeClock(clock.now()), bootDelayMs });
    const m = localMachine();
    await before.create(m);

    clock.step(bootDelayMs + 1);
    const after = new LocalCloudProvider({ client, clock, bootDelayMs });
    const stop = new AbortController();
    const running = after.start(stop.signal);
    await until("the overdue boot", async () => {
      const n = await getNode(m.metadata!.name!);
      return n.metadata?.annotations?.[bootAnnotation] ? undefined : n;
    });
    stop.abort();
    await running;
  });

  it("injects launch failures, quota exhaustion and instances that never register", async () => {
    const cloud = new LocalCloudProvider({
      client,
      clock: new FakeClock(Date.now()),
      quotas: { standardNCADSA100v4Family: 24 },
    });
    cloud.faults.failNextLaunches(1, "allocation");
    await expect(cloud.create(localMachine())).rejects.toMatchObject({ reason: "allocation" });
    await expect(cloud.create(localMachine("Standard_Imaginary_v9"))).rejects.toMatchObject({
      name: "InsufficientCapacityError",
      reason: "sku",
      sku: "Standard_Imaginary_v9",
    });

    cloud.faults.exhaustQuota({ family: "standardNCASv3_T4Family" });
    await expect(cloud.create(localMachine("Standard_NC4as_T4_v3"))).rejects.toMatchObject({
      reason: "quota",
    });

    // 24 vCPUs of A100 quota: one NC24ads fits, the second does not.
    await cloud.create(localMachine());
    const second = cloud.create(localMachine());
    await expect(second).rejects.toSatisfy(isInsufficientCapacity);
    await expect(second).rejects.toMatchObject({ reason: "quota" });

    cloud.faults.neverRegisterNext();
    const phantom = localMachine("Standard_NC4as_T4_v3");
    cloud.faults.restoreQuota({ family: "standardNCASv3_T4Family" });
    const instance = await cloud.create(phantom);
    await expect(getNode(phantom.metadata!.name!)).rejects.toMatchObject({ statusCode: 404 });
    expect((await cloud.get(instance.providerID)).instanceType).toBe("Standard_NC4as_T4_v3");
    expect((await cloud.list()).map((i) => i.providerID)).toContain(instance.providerID);
    await cloud.delete(instance.providerID);
    await expect(cloud.delete(phantom)).rejects.toSatisfy(isMachineNotFound);
  });

  it("offers every catalogue size, with the quota left after the instances that exist", async () => {
    const family = "standardNCADSA100v4Family";
    const cloud = new LocalCloudProvider({
      client,
      clock: new FakeClock(Date.now()),
      quotas: { [family]: 480 },
    });
    const before = await cloud.offering();
    // Retired, but a Workspace may still name it and this cloud launches it.
    expect(before.instanceTypes.map((t) => t.name)).toContain("Standard_NC6s_v3");
    expect(Object.keys(before.quota)).toEqual([family]);
    await cloud.create(localMachine());
    cloud.faults.exhaustQuota({ family: "standardNCASv3_T4Family" });
    expect((await cloud.offering()).quota).toEqual({
      [family]: before.quota[family]! - 24,
      standardNCASv3_T4Family: 0,
    });
  });
});
