import { readFileSync } from "node:fs";
import path from "node:path";
import type { V1Node } from "@kubernetes/client-node";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { jsonLogger, type LogLevel } from "../../lib/log.ts";
import type { Machine, Workspace } from "../../crds/index.ts";
import { componentNames } from "../../controller/operator.ts";
import { runOperator } from "../../controller/run.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { FakeClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log.ts";
import { GarbageCollector } from "../../provisioner/index.ts";
import { AzureCloudProvider } from "../../provisioner/cloud/azure/index.ts";
import { findSku, loadCatalog } from "../../planner/catalog/index.ts";
import {
  allocationFailed,
  kwokNodeHooks,
  quotaExceeded,
  serverError,
  skuNotAvailable,
  startArmStandin,
  standinComputeClient,
  staticTokenCredential,
  seedSubscription,
  throttle,
  type ArmStandin,
} from "../arm-standin/index.ts";
import { until } from "../harness/until.ts";
import { deleteWorkspaces } from "./workspaces.ts";

// The whole operator with the Azure backend: the real @azure/arm-compute client talks to the ARM
// stand-in on loopback, whose VMs join the shared test cluster as kwok nodes.

const cluster = useTestCluster();
const resourceGroup = "kaito-e2e";
const subnetId = (sub: string) =>
  `/subscriptions/${sub}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes`;
const image = { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" };
let standin: ArmStandin;
let client: KubeClient;
let stop: () => Promise<void>;

// What the subscription has in eastus, read once when the operator starts (its cache keeps the
// reading for minutes): every catalogue size except one that is closed to the subscription, and
// vCPU quota everywhere except the T4 family, phi-3's cheapest, which Usages reports as used up.
const restrictedSize = "Standard_NC40ads_H100_v5";
const exhaustedFamily = findSku("Standard_NC4as_T4_v3")!.family;
const createVm = "virtualMachines.createOrUpdate";

beforeAll(async () => {
  standin = await startArmStandin({ lroPolls: 1 });
  seedSubscription(standin.state, {
    skus: loadCatalog().skus,
    location: "eastus",
    restricted: [restrictedSize],
    exhaustedFamilies: [exhaustedFamily],
  });
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  standin.hooks.use(kwokNodeHooks(client, standin.subscriptionId, resourceGroup));
  const abort = new AbortController();
  let built!: (m: Manager) => void;
  const manager = new Promise<Manager>((resolve) => (built = resolve));
  const running = runOperator(
    {
      client,
      cloud: "azure",
      components: new Set(componentNames),
      addresses: {
        metrics: "127.0.0.1:0",
        health: "127.0.0.1:0",
        planner: "127.0.0.1:0",
        extender: "127.0.0.1:0",
      },
      log: jsonLogger({ level: (process.env.KAITO_TEST_LOG as LogLevel | undefined) ?? "error" }),
      azure: {
        subscriptionId: standin.subscriptionId,
        resourceGroup,
        location: "eastus",
        subnetId: subnetId(standin.subscriptionId),
        image,
        credential: staticTokenCredential(),
        endpoint: standin.endpoint,
        ca: standin.ca,
        pollIntervalMs: 50,
        retryOptions: { retryDelayInMs: 20, maxRetryDelayInMs: 200 },
      },
      onManager: built,
    },
    abort.signal,
  );
  await Promise.race([
    manager,
    running.then(() => Promise.reject(new Error("the operator stopped at once"))),
  ]);
  stop = async () => {
    abort.abort();
    await running;
  };
});

afterAll(async () => {
  await stop?.();
  client?.close();
  await standin?.close();
});

type Ws = Workspace & KubeObject;
const condition = (ws: Ws | undefined, type: string) => ws?.status?.conditions?.find((c) => c.type === type);
const examples = path.resolve(import.meta.dirname, "../../../shared/examples");
const phi3 = () => parse(readFileSync(path.join(examples, "kaito_workspace_phi_3.yaml"), "utf8")) as Ws;

async function untilReady(name: string, namespace: string): Promise<Ws> {
  let seen: Ws | undefined;
  return until(
    () => `${namespace}/${name} to be ready (status: ${JSON.stringify(seen?.status)})`,
    async () => {
      seen = await client.get<Ws>(resources.workspaces, name, namespace);
      return condition(seen, "WorkspaceReady")?.status === "True" ? seen : undefined;
    },
  );
}

async function machinesOf(namespace: string): Promise<Machine[]> {
  return (await client.list<Machine & KubeObject>(resources.machines)).items.filter(
    (m) => m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace,
  );
}

/** Deletes the workspace and waits until its Machines, nodes and VMs are gone. */
async function deleteAndDrain(name: string, namespace: string, vmNames: string[]): Promise<void> {
  await client.delete(resources.workspaces, name, namespace);
  await until(
    () =>
      `${namespace}'s Machines, nodes and VMs to be gone (VMs left: ${standin.state
        .vmsIn(resourceGroup)
        .map((v) => v.name)
        .join(", ")})`,
    async () => {
      const machines = await machinesOf(namespace);
      const nodes = (await client.list<V1Node & KubeObject>(resources.nodes)).items.filter((n) =>
        vmNames.includes(n.metadata?.name ?? ""),
      );
      const vms = standin.state.vmsIn(resourceGroup).filter((v) => vmNames.includes(v.name));
      return machines.length === 0 && nodes.length === 0 && vms.length === 0 ? true : undefined;
    },
  );
}

describe("the operator with the Azure backend on the ARM stand-in", () => {
  it("takes the phi-3 example to WorkspaceReady on a VM that joins as a node, through a 429 storm", async () => {
    const namespace = await cluster.newNamespace("azure-phi3");
    const manifest = phi3();
    manifest.metadata = { ...manifest.metadata, namespace };
    const name = manifest.metadata.name!;
    standin.faults.add(
      throttle({ times: 2, retryAfterSeconds: 1, operation: "virtualMachines.createOrUpdate" }),
    );
    await client.create(resources.workspaces, manifest);
    const ws = await untilReady(name, namespace);
    expect(ws.status?.instanceType).toBe("Standard_NC6s_v3");

    const [machine] = await machinesOf(namespace);
    expect(machine?.status?.providerID).toMatch(
      new RegExp(
        `^azure:///subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft\\.Compute/virtualMachines/`,
      ),
    );
    const vms = standin.state
      .vmsIn(resourceGroup)
      .filter((v) => v.tags?.["kaito.sh/machine"] === machine!.metadata!.name);
    expect(vms).toHaveLength(1);
    expect(vms[0]!.properties.provisioningState).toBe("Succeeded");
    const node = await client.get<V1Node & KubeObject>(resources.nodes, vms[0]!.name);
    expect(node.spec?.providerID).toBe(machine!.status!.providerID);
    expect(node.status?.allocatable?.["nvidia.com/gpu"]).toBe("1");
    expect(standin.faults.pending()).toBe(0);

    await deleteAndDrain(
      name,
      namespace,
      vms.map((v) => v.name),
    );
    console.log(
      `azure e2e phi-3: VM PUTs ${standin.count("virtualMachines.createOrUpdate")} (2 throttled), operation polls ${standin.count("operations.get")}, VMs left ${standin.state.vmsIn(resourceGroup).length}`,
    );
  });

  it("replans a workspace without instanceType onto another size when the first hits QuotaExceeded", async () => {
    // Usages show headroom for the planner's choice, yet the PUT is refused: quota is an instant
    // reading, and someone else may take it first.
    const namespace = await cluster.newNamespace("azure-quota");
    const manifest = phi3();
    manifest.metadata = { name: "phi-3-auto", namespace };
    delete manifest.resource.instanceType;
    standin.faults.add(quotaExceeded({ times: 1 }));
    await client.create(resources.workspaces, manifest);
    const ws = await untilReady("phi-3-auto", namespace);
    const refused = standin.requests.find((r) => r.operation === createVm && r.status === 409);
    expect(refused).toBeDefined();
    expect(ws.status?.failedInstanceTypes).toHaveLength(1);
    expect(findSku(ws.status!.failedInstanceTypes![0]!)?.family).not.toBe(exhaustedFamily);
    expect(ws.status?.instanceType).not.toBe(ws.status?.failedInstanceTypes?.[0]);
    const vms = standin.state.vmsIn(resourceGroup);
    expect(vms.map((v) => (v.properties.hardwareProfile as { vmSize: string }).vmSize)).toEqual([
      ws.status?.instanceType,
    ]);

    await deleteAndDrain(
      "phi-3-auto",
      namespace,
      vms.map((v) => v.name),
    );
    const left = standin.state.vmsIn(resourceGroup).length;
    console.log(
      `azure e2e quota fallback: refused ${ws.status?.failedInstanceTypes?.join(",")}, ready on ${ws.status?.instanceType}; ` +
        `VM PUTs ${standin.count("virtualMachines.createOrUpdate")}, deletes ${standin.count("virtualMachines.delete")}, VMs left ${left}`,
    );
    expect(left).toBe(0);
    expect(standin.hooks.failures).toEqual([]);
  });

  it("cleans up the Failed VM an asynchronous AllocationFailed leaves behind, and rides out 5xx polls", async () => {
    const namespace = await cluster.newNamespace("azure-alloc");
    const manifest = phi3();
    manifest.metadata = { name: "phi-3-alloc", namespace };
    delete manifest.resource.instanceType;
    standin.faults
      .add(allocationFailed({ times: 1 }))
      .add(serverError({ times: 2, status: 503, operation: "operations.get" }));
    await client.create(resources.workspaces, manifest);
    const ws = await untilReady("phi-3-alloc", namespace);
    const failedSize = ws.status?.failedInstanceTypes?.[0];
    expect(failedSize).toBeDefined();
    expect(ws.status?.instanceType).not.toBe(failedSize);
    // ARM keeps a VM whose allocation failed; deleting its Machine must delete it too.
    await until(
      () => `the Failed ${failedSize} VM to be deleted`,
      async () =>
        standin.state.vmsIn(resourceGroup).every((v) => v.properties.provisioningState === "Succeeded")
          ? true
          : undefined,
    );
    const vms = standin.state.vmsIn(resourceGroup);
    expect(vms).toHaveLength(1);
    await deleteAndDrain(
      "phi-3-alloc",
      namespace,
      vms.map((v) => v.name),
    );
    const left = standin.state.vmsIn(resourceGroup).length;
    console.log(
      `azure e2e allocation failure: ${failedSize} failed in its operation, ready on ${ws.status?.instanceType}; ` +
        `503 answers ridden out ${standin.requests.filter((r) => r.status === 503).length}, VMs left ${left}`,
    );
    expect(left).toBe(0);
  });

  it("reports a named size that is SkuNotAvailable as a failure condition, leaving no VM", async () => {
    const namespace = await cluster.newNamespace("azure-sku");
    const manifest = phi3();
    manifest.metadata = { name: "phi-3-named", namespace };
    standin.faults.add(skuNotAvailable({ times: 1000, size: "Standard_NC6s_v3" }));
    let reason: string | undefined;
    try {
      await client.create(resources.workspaces, manifest);
      let seen: Ws | undefined;
      const ws = await until(
        () => `ResourceReady False (status: ${JSON.stringify(seen?.status)})`,
        async () => {
          seen = await client.get<Ws>(resources.workspaces, "phi-3-named", namespace);
          return condition(seen, "ResourceReady")?.status === "False" ? seen : undefined;
        },
      );
      reason = condition(ws, "ResourceReady")?.reason;
      expect(reason).toBe("SkuNotAvailable");
      expect(condition(ws, "ResourceReady")?.message).toMatch(/Standard_NC6s_v3/);
      await client.delete(resources.workspaces, "phi-3-named", namespace);
      await until(
        () => "the workspace's Machines to be gone",
        async () => ((await machinesOf(namespace)).length === 0 ? true : undefined),
      );
    } finally {
      standin.faults.clear();
    }
    const left = standin.state.vmsIn(resourceGroup).length;
    console.log(`azure e2e named size refused: ResourceReady=False reason ${reason}, VMs left ${left}`);
    expect(left).toBe(0);
    expect(standin.hooks.failures).toEqual([]);
  });

  it("plans around a family that Usages shows out of quota, without a refused launch", async () => {
    const namespace = await cluster.newNamespace("azure-usages");
    const manifest = phi3();
    manifest.metadata = { name: "phi-3-usages", namespace };
    delete manifest.resource.instanceType;
    const from = standin.requests.length;
    await client.create(resources.workspaces, manifest);
    const ws = await untilReady("phi-3-usages", namespace);
    const puts = standin.requests.slice(from).filter((r) => r.operation === createVm);
    expect(puts.length).toBeGreaterThan(0);
    expect(puts.filter((r) => r.status >= 400)).toEqual([]);
    expect(ws.status?.failedInstanceTypes ?? []).toEqual([]);
    expect(findSku(ws.status!.instanceType!)?.family).not.toBe(exhaustedFamily);
    const vms = standin.state.vmsIn(resourceGroup);
    expect(vms.map((v) => (v.properties.hardwareProfile as { vmSize: string }).vmSize)).toEqual([
      ws.status?.instanceType,
    ]);
    await deleteAndDrain(
      "phi-3-usages",
      namespace,
      vms.map((v) => v.name),
    );
    console.log(
      `azure e2e quota from Usages: ${exhaustedFamily} has no headroom, planned straight onto ${ws.status?.instanceType} with ${puts.length} VM PUT(s), none refused`,
    );
  });

  /**
   * Applies phi-3 on the named size, waits for ResourceReady False, checks that nothing was
   * launched for it, deletes it, and returns the condition.
   */
  async function refusedBeforeLaunch(name: string, size: string) {
    const namespace = await cluster.newNamespace(`azure-${name}`);
    const manifest = phi3();
    manifest.metadata = { name, namespace };
    manifest.resource.instanceType = size;
    const puts = standin.count(createVm);
    await client.create(resources.workspaces, manifest);
    let seen: Ws | undefined;
    const ws = await until(
      () => `ResourceReady False (status: ${JSON.stringify(seen?.status)})`,
      async () => {
        seen = await client.get<Ws>(resources.workspaces, name, namespace);
        return condition(seen, "ResourceReady")?.status === "False" ? seen : undefined;
      },
    );
    expect(condition(ws, "WorkspaceReady")?.status).toBe("False");
    expect(await machinesOf(namespace)).toEqual([]);
    expect(standin.count(createVm)).toBe(puts);
    await deleteWorkspaces(client, namespace);
    const refused = condition(ws, "ResourceReady")!;
    console.log(
      `azure e2e ${name}: ${size} refused as ${refused.reason}, VM PUTs for it ${standin.count(createVm) - puts}`,
    );
    return refused;
  }

  it("fails a named size that ResourceSkus closes to the subscription before any VM PUT", async () => {
    expect(await refusedBeforeLaunch("phi-3-restricted", restrictedSize)).toMatchObject({
      reason: "InstanceTypeNotOffered",
      message: `resource.instanceType ${restrictedSize} is not offered to this subscription in eastus; choose another size or leave instanceType out to let the planner choose.`,
    });
  });

  it("fails a named size whose family Usages shows out of quota before any VM PUT", async () => {
    const size = "Standard_NC4as_T4_v3";
    const vcpus = findSku(size)!.vcpus;
    expect(await refusedBeforeLaunch("phi-3-named-quota", size)).toMatchObject({
      reason: "QuotaExceeded",
      message: `resource.instanceType ${size} needs ${vcpus} vCPUs of the ${exhaustedFamily} quota for 1 new node(s) but only 0 are free in eastus; raise that quota or leave instanceType out to let the planner choose.`,
    });
  });

  it("garbage-collects a tagged VM whose Machine is gone, and only that one", async () => {
    const client2 = standinComputeClient(standin);
    const put = (name: string, tags?: Record<string, string>) =>
      client2.virtualMachines.createOrUpdate(
        resourceGroup,
        name,
        { location: "eastus", ...(tags ? { tags } : {}), hardwareProfile: { vmSize: "Standard_NC6s_v3" } },
        { updateIntervalInMs: 20 },
      );
    await put("orphan-vm", { "kaito.sh/machine": "no-such-machine" });
    await put("someone-elses-vm");
    const cloud = new AzureCloudProvider({
      client: client2,
      subscriptionId: standin.subscriptionId,
      resourceGroup,
      location: "eastus",
      image,
      subnetId: subnetId(standin.subscriptionId),
      pollIntervalMs: 20,
    });
    // A clock ten minutes ahead makes both VMs older than the collector's grace period.
    const gc = new GarbageCollector({
      client,
      cloud,
      clock: new FakeClock(Date.now() + 600_000),
      log: silentLogger,
    });
    const deleted = await gc.collect();
    expect(deleted).toEqual([
      `azure:///subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/orphan-vm`,
    ]);
    const left = standin.state.vmsIn(resourceGroup).map((v) => v.name);
    expect(left).toEqual(["someone-elses-vm"]);
    console.log(
      `azure e2e garbage collection: deleted ${deleted.length} orphan, kept untagged [${left.join(", ")}]`,
    );
    await client2.virtualMachines.delete(resourceGroup, "someone-elses-vm", { updateIntervalInMs: 20 });
  });
});
