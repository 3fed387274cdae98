import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { V1Node } from "@kubernetes/client-node";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { jsonLogger } from "../../lib/log.ts";
import type { Machine, Workspace } from "../../crds/index.ts";
import { componentNames } from "../../controller/operator.ts";
import { runOperator, type RunOptions } from "../../controller/run.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { FakeClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log.ts";
import { GarbageCollector } from "../../provisioner/index.ts";
import {
  AzureCloudProvider,
  joinDataFile,
  missingJoinDataMessage,
  parseProviderId,
} from "../../provisioner/cloud/azure/index.ts";
import { findSku, loadCatalog } from "../../planner/catalog/index.ts";
import {
  allocationFailed,
  bootstrapTokenSecret,
  isDevicePluginImage,
  kubeadmJoinUserData,
  newBootstrapToken,
  quotaExceeded,
  serverError,
  skuNotAvailable,
  startArmStandin,
  startVmKubelets,
  standinComputeClient,
  staticTokenCredential,
  seedSubscription,
  throttle,
  type ArmStandin,
  type BootstrapToken,
  type VmKubelets,
} from "../arm-standin/index.ts";
import { until } from "../harness/until.ts";
import { installDevicePlugin } from "./device-plugin.ts";
import { deleteWorkspaces } from "./workspaces.ts";

// The whole operator with the Azure backend: the real @azure/arm-compute client talks to the ARM
// stand-in on loopback, whose VMs boot with the join data the operator gave them and register as
// kwok nodes of the shared test cluster only when its bootstrap token authenticates. The NVIDIA
// device plugin runs from deploy/device-plugin, and a node shows its GPUs only once it does.

const cluster = useTestCluster();
// Mixed case on purpose: Azure writes the resource group in lower case on the Node.
const resourceGroup = "Kaito-E2E";
const subnetId = (sub: string) =>
  `/subscriptions/${sub}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes`;
const image = { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" };
let standin: ArmStandin;
let client: KubeClient;
let kubelets: VmKubelets;
let removeDevicePlugin: (() => Promise<void>) | undefined;
let scratch: string;
// The token the operator's join data carries, and the kube-system Secret behind it.
const token = newBootstrapToken();
// A token whose Secret says it expired an hour ago: kubeadm tokens expire after 24 h by default,
// so this is the first thing to go wrong on a real cluster ("VMs that cannot join" below).
const stale = newBootstrapToken();
let joinFile: string;
const tokenSecrets: string[] = [];
// Every line the operators logged, at debug level, and the objects they wrote as tests saw them:
// the join data must be in none of them.
const logLines: string[] = [];
const written: string[] = [];

/** Keeps the Machines, Nodes and Workspaces as they are now, for the final credential check. */
async function keepWritten(): Promise<void> {
  for (const r of [resources.machines, resources.nodes, resources.workspaces])
    for (const o of (await client.list<KubeObject>(r)).items) written.push(JSON.stringify(o));
}

// What the subscription has in eastus, read once when the operator starts (its cache keeps the
// reading for minutes): every catalogue size except one that is closed to the subscription, and
// vCPU quota everywhere except the T4 family, phi-3's cheapest, which Usages reports as used up.
const restrictedSize = "Standard_NC40ads_H100_v5";
const exhaustedFamily = findSku("Standard_NC4as_T4_v3")!.family;
const createVm = "virtualMachines.createOrUpdate";

async function addTokenSecret(t: BootstrapToken, expiration?: string): Promise<void> {
  const secret = bootstrapTokenSecret(t, expiration ? { expiration } : {});
  await client.create(resources.secrets, secret);
  tokenSecrets.push(secret.metadata!.name!);
}

function writeJoinData(name: string, t: BootstrapToken): string {
  const file = path.join(scratch, name);
  writeFileSync(file, kubeadmJoinUserData(t.token), { mode: 0o600 });
  return file;
}

beforeAll(async () => {
  standin = await startArmStandin({ lroPolls: 1 });
  seedSubscription(standin.state, {
    skus: loadCatalog().skus,
    location: "eastus",
    restricted: [restrictedSize],
    exhaustedFamilies: [exhaustedFamily],
  });
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  kubelets = await startVmKubelets({ client });
  standin.hooks.use(kubelets);
  removeDevicePlugin = await installDevicePlugin(client);
  scratch = mkdtempSync(path.join(tmpdir(), "kaito-azure-e2e-"));
  await addTokenSecret(token);
  joinFile = writeJoinData("join.yaml", token);
});

afterAll(async () => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  await removeDevicePlugin?.();
  for (const name of tokenSecrets)
    await client.delete(resources.secrets, name, "kube-system").catch(() => undefined);
  await kubelets?.close();
  client?.close();
  await standin?.close();
});

/** Runs the operator with the Azure backend until the returned function stops it. */
async function startOperator(
  o: { joinDataFile: string } & Pick<RunOptions, "machineLiveness">,
): Promise<() => Promise<void>> {
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
      log: jsonLogger({
        level: "debug",
        write: (line) => {
          logLines.push(line);
          if (process.env.KAITO_TEST_LOG || line.includes('"level":"error"')) process.stderr.write(line);
        },
      }),
      azure: {
        subscriptionId: standin.subscriptionId,
        resourceGroup,
        location: "eastus",
        subnetId: subnetId(standin.subscriptionId),
        image,
        joinData: joinDataFile(o.joinDataFile),
        credential: staticTokenCredential(),
        endpoint: standin.endpoint,
        ca: standin.ca,
        pollIntervalMs: 50,
        retryOptions: { retryDelayInMs: 20, maxRetryDelayInMs: 200 },
      },
      ...(o.machineLiveness ? { machineLiveness: o.machineLiveness } : {}),
      onManager: built,
    },
    abort.signal,
  );
  await Promise.race([
    manager,
    running.then(() => Promise.reject(new Error("the operator stopped at once"))),
  ]);
  return async () => {
    abort.abort();
    await running;
  };
}

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
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    stop = await startOperator({ joinDataFile: joinFile });
  });
  afterAll(async () => {
    await stop?.();
  });

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
    // The resource group in lower case, as Azure writes it on the Node.
    expect(machine?.status?.providerID).toMatch(
      new RegExp(
        `^azure:///subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup.toLowerCase()}/providers/Microsoft\\.Compute/virtualMachines/`,
      ),
    );
    const vms = standin.state
      .vmsIn(resourceGroup)
      .filter((v) => v.tags?.["kaito.sh/machine"] === machine!.metadata!.name);
    expect(vms).toHaveLength(1);
    expect(vms[0]!.properties.provisioningState).toBe("Succeeded");
    // The VM joined with the operator's bootstrap token, as kubeadm would.
    expect(kubelets.joins.filter((j) => j.vm === vms[0]!.name)).toEqual([
      { vm: vms[0]!.name, joined: true, node: vms[0]!.name, tokenId: token.id, reason: "registered" },
    ]);
    const node = await client.get<V1Node & KubeObject>(resources.nodes, vms[0]!.name);
    expect(node.spec?.providerID).toBe(machine!.status!.providerID);
    // Tainted from registration on (the kubelet's --register-with-taints), so nothing else lands there.
    expect(node.spec?.taints).toContainEqual({ key: "sku", value: "gpu", effect: "NoSchedule" });
    // The GPU shows because deploy/device-plugin's pod runs on the node.
    expect(node.status?.allocatable?.["nvidia.com/gpu"]).toBe("1");
    const plugins = (
      await client.list<KubeObject & { spec?: { containers?: { image?: string }[] } }>(resources.pods, {
        namespace: "kube-system",
        fieldSelector: `spec.nodeName=${node.metadata!.name}`,
      })
    ).items.filter((p) => p.spec?.containers?.some((c) => isDevicePluginImage(c.image)));
    expect(plugins).toHaveLength(1);
    expect(standin.faults.pending()).toBe(0);
    await keepWritten();

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
      joinData: joinDataFile(joinFile),
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
      `azure:///subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup.toLowerCase()}/providers/Microsoft.Compute/virtualMachines/orphan-vm`,
    ]);
    // Neither VM had join data: both booted and never registered.
    await standin.hooks.settled();
    for (const vm of ["orphan-vm", "someone-elses-vm"])
      expect(kubelets.joins.find((j) => j.vm === vm)).toMatchObject({
        joined: false,
        reason: "the VM has no customData, so nothing on it runs kubeadm join",
      });
    const left = standin.state.vmsIn(resourceGroup).map((v) => v.name);
    expect(left).toEqual(["someone-elses-vm"]);
    console.log(
      `azure e2e garbage collection: deleted ${deleted.length} orphan, kept untagged [${left.join(", ")}]`,
    );
    await client2.virtualMachines.delete(resourceGroup, "someone-elses-vm", { updateIntervalInMs: 20 });
  });
});

describe("VMs that cannot join", () => {
  const registrationTimeoutMs = 10_000;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    await addTokenSecret(stale, new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, "Z"));
    stop = await startOperator({
      joinDataFile: writeJoinData("stale-join.yaml", stale),
      machineLiveness: { registrationTimeoutMs },
    });
  });
  afterAll(async () => {
    await stop?.();
  });

  it("replaces the Machine of a VM whose bootstrap token expired, and joins once the token is renewed", async () => {
    const namespace = await cluster.newNamespace("azure-join");
    const manifest = phi3();
    manifest.metadata = { name: "phi-3-join", namespace };
    await client.create(resources.workspaces, manifest);

    // The first Machine launches a VM, which boots and is refused: no Node ever registers for it.
    const first = await until(
      () => "the first Machine to launch",
      async () => (await machinesOf(namespace)).find((m) => m.status?.providerID),
    );
    const firstVm = parseProviderId(first.status!.providerID!)!.vmName;
    const refused = await until(
      () => `VM ${firstVm} to boot`,
      async () => kubelets.joins.find((j) => j.vm === firstVm),
    );
    expect(refused).toMatchObject({ joined: false, tokenId: stale.id });
    expect(refused.reason).toMatch(new RegExp(`^bootstrap token ${stale.id} expired at `));

    // Renewed at once, as `kubeadm token create` would make a fresh one. Too late for that VM:
    // cloud-init ran kubeadm join once, at its first boot, and the VM stays a stranger.
    await client.patch(
      resources.secrets,
      `bootstrap-token-${stale.id}`,
      "kube-system",
      { stringData: { expiration: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, "Z") } },
      "merge",
    );

    // After the registration timeout the Machine is deleted with its VM, and the Workspace gets a
    // new one, whose VM boots with the same join data and now joins.
    const replacement = await until(
      () => `a Machine to replace ${first.metadata!.name} (uid ${first.metadata!.uid})`,
      async () => (await machinesOf(namespace)).find((m) => m.metadata!.uid !== first.metadata!.uid),
      registrationTimeoutMs * 6,
    );
    const events = (
      await client.list<KubeObject & { reason?: string; involvedObject?: { uid?: string } }>(
        resources.events,
        {
          namespace: "default",
          fieldSelector: "reason=RegistrationTimeout",
        },
      )
    ).items.filter((e) => e.involvedObject?.uid === first.metadata!.uid);
    expect(events).toHaveLength(1);
    const ws = await untilReady("phi-3-join", namespace);
    const [machine] = await machinesOf(namespace);
    const vm = parseProviderId(machine!.status!.providerID!)!.vmName;
    expect(kubelets.joins.filter((j) => j.vm === vm).at(-1)).toMatchObject({
      joined: true,
      tokenId: stale.id,
    });
    const attempts = kubelets.joins.filter((j) => j.tokenId === stale.id);
    expect(attempts.map((j) => j.joined)).toEqual([false, true]);
    await keepWritten();
    const vmsNow = standin.state.vmsIn(resourceGroup).map((v) => v.name);
    await deleteAndDrain("phi-3-join", namespace, vmsNow);
    console.log(
      `azure e2e expired token: ${attempts.filter((j) => !j.joined).length} VM(s) refused (${refused.reason}), ` +
        `Machine ${first.metadata!.name} (uid ${first.metadata!.uid!.slice(0, 8)}) replaced by ${replacement.metadata!.name} (uid ${replacement.metadata!.uid!.slice(0, 8)}) after ${registrationTimeoutMs / 1000} s, ` +
        `ready on ${ws.status?.instanceType} once renewed; VMs left ${standin.state.vmsIn(resourceGroup).length}`,
    );
    expect(standin.state.vmsIn(resourceGroup)).toEqual([]);
  });
});

describe("kaito controller --cloud azure", () => {
  it("refuses to start without join data, in one sentence on stderr", async () => {
    const repo = path.resolve(import.meta.dirname, "../..");
    const env = { ...process.env };
    for (const name of Object.keys(env)) if (name.startsWith("AZURE_")) delete env[name];
    const run = promisify(execFile)(
      path.join(repo, "node_modules/.bin/node"),
      [
        path.join(repo, "cli/main.ts"),
        "controller",
        "--kubeconfig",
        cluster.kubeconfigPath,
        "--cloud",
        "azure",
        `--azure-subscription-id=${standin.subscriptionId}`,
        `--azure-resource-group=${resourceGroup}`,
        "--azure-location=eastus",
        `--azure-subnet-id=${subnetId(standin.subscriptionId)}`,
        `--azure-endpoint=${standin.endpoint}`,
      ],
      { env, timeout: 60_000 },
    );
    const failed = await run.then(
      () => undefined,
      (e: unknown) => e as { code?: number; stderr?: string },
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toBe(`kaito controller: ${missingJoinDataMessage}\n`);
  });
});

describe("the VMs' join data", () => {
  it("appears in no log line, Event or object the operators wrote", async () => {
    const data = readFileSync(joinFile, "utf8");
    // Every form it could leak in: the tokens, their secret halves, the file, base64 of the file.
    const needles = [
      token.token,
      token.secret,
      stale.token,
      stale.secret,
      data,
      Buffer.from(data).toString("base64").slice(0, 60),
    ];
    const events = (await client.list<KubeObject>(resources.events)).items;
    // The operators talked, at debug level, through every test above.
    expect(logLines.length).toBeGreaterThan(50);
    expect(written.length).toBeGreaterThan(0);
    expect(logLines.some((l) => l.includes("creating VM"))).toBe(true);
    for (const needle of needles) {
      expect(logLines.filter((l) => l.includes(needle))).toEqual([]);
      expect(events.filter((e) => JSON.stringify(e).includes(needle)).map((e) => e.metadata?.name)).toEqual(
        [],
      );
      expect(written.filter((o) => o.includes(needle))).toEqual([]);
    }
    // ARM never hands it back, and the stand-in's VMs (GET/list answers) do not hold it.
    expect(JSON.stringify([...standin.state.vms.values()])).not.toContain(token.token);
    console.log(
      `azure e2e join data: ${logLines.length} debug log lines, ${events.length} events, ${written.length} objects checked; none holds the token`,
    );
  });
});
