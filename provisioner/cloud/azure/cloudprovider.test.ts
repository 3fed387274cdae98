import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import { instanceTypeLabel, zoneLabel } from "../../../crds/index.ts";
import { machine } from "../../fixtures.ts";
import {
  allocationFailed,
  operationNotAllowed,
  quotaExceeded,
  serverError,
  skuNotAvailable,
  standinComputeClient,
  startArmStandin,
  notAvailableInLocation,
  throttle,
  usage,
  vmSku,
  type ArmStandin,
} from "../../../test/arm-standin/index.ts";
import { isInsufficientCapacity, isMachineNotFound, type CapacityReason } from "../errors.ts";
import { AzureCloudProvider, type AzureCloudOptions } from "./cloudprovider.ts";
import { joinDataValue, type JoinDataSource } from "./joindata.ts";
import { vmNameFor } from "./names.ts";

// The backend with the real @azure/arm-compute client against the ARM stand-in on loopback.

const resourceGroup = "kaito-rg";
const token = "abcdef.0123456789abcdef";
const joinTemplate = `#cloud-config
write_files:
  - path: /etc/default/kubelet
    content: |
      KUBELET_EXTRA_ARGS=--node-labels={{KAITO_NODE_LABELS}} --register-with-taints={{KAITO_NODE_TAINTS}}
runcmd:
  - kubeadm join 10.0.0.4:6443 --token ${token} --discovery-token-ca-cert-hash sha256:00
`;
const joinData: JoinDataSource = joinDataValue(joinTemplate, "test join data");
const sku = "Standard_NC24ads_A100_v4";
let standin: ArmStandin;

beforeEach(async () => {
  standin = await startArmStandin({ pageSize: 2, lroPolls: 2 });
});
afterEach(async () => {
  await standin.close();
});

function provider(o: Partial<AzureCloudOptions> = {}): AzureCloudProvider {
  return new AzureCloudProvider({
    // Short SDK retry delays keep 5xx tests fast; 429s still wait for their Retry-After.
    client: standinComputeClient(standin, { retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 50 } }),
    subscriptionId: standin.subscriptionId,
    resourceGroup,
    location: "eastus",
    image: { publisher: "Canonical", offer: "ubuntu-24_04-lts", sku: "server", version: "latest" },
    subnetId: `/subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/nodes`,
    joinData,
    pollIntervalMs: 10,
    clock: new FakeClock(),
    ...o,
  });
}

const vms = () => standin.state.vmsIn(resourceGroup);

describe("AzureCloudProvider on the ARM stand-in", () => {
  it("creates one VM per Machine, polling the long-running operation, with the AKS providerID", async () => {
    const m = machine({
      spec: {
        requirements: [
          { key: instanceTypeLabel, operator: "In", values: [sku] },
          { key: zoneLabel, operator: "In", values: ["eastus-2"] },
        ],
      },
    });
    const instance = await provider().create(m);
    const name = vmNameFor(m.metadata!.name!);
    expect(instance.providerID).toBe(
      `azure:///subscriptions/${standin.subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${name}`,
    );
    expect(instance).toMatchObject({ machineName: m.metadata!.name, instanceType: sku, zone: "eastus-2" });
    expect(instance.capacity["nvidia.com/gpu"]).toBe("1");
    expect(standin.count("operations.get")).toBe(3); // two InProgress, then Succeeded
    const [vm] = vms();
    expect(vm).toMatchObject({
      name,
      zones: ["2"],
      tags: { "kaito.sh/machine": m.metadata!.name },
      properties: { provisioningState: "Succeeded", hardwareProfile: { vmSize: sku } },
    });
    expect(vm!.properties.networkProfile).toMatchObject({
      networkInterfaceConfigurations: [{ properties: { deleteOption: "Delete" } }],
    });
  });

  it("gives each VM the join data with its Machine's labels and taints, in the first PUT only", async () => {
    const m = machine({ metadata: { name: "ws0a1b2c3d4" } });
    await provider().create(m);
    const key = `${resourceGroup}/${vmNameFor("ws0a1b2c3d4")}`;
    const sent = Buffer.from(standin.state.customData.get(key)!, "base64").toString("utf8");
    expect(sent).toContain(
      `--node-labels=apps=phi-3,kaito.sh/workspace=phi-3,kaito.sh/workspacenamespace=default,node.kubernetes.io/instance-type=${sku} `,
    );
    expect(sent).toContain("--register-with-taints=sku=gpu:NoSchedule\n");
    expect(sent).toContain(`--token ${token}`);
    // ARM never returns it, and the backend never needs it back.
    expect(JSON.stringify(vms())).not.toContain(token);

    // A VM still creating when the manager restarts is PUT again without customData: ARM keeps
    // what it has and would refuse a change, so new join data (a rotated token) cannot break it.
    const m2 = machine();
    const client = standinComputeClient(standin);
    await client.virtualMachines.beginCreateOrUpdate(resourceGroup, vmNameFor(m2.metadata!.name!), {
      location: "eastus",
      tags: { "kaito.sh/machine": m2.metadata!.name! },
      hardwareProfile: { vmSize: sku },
      osProfile: { customData: Buffer.from("#!/bin/sh\n# the old token\n").toString("base64") },
    });
    await provider().create(m2);
    const kept = standin.state.customData.get(`${resourceGroup}/${vmNameFor(m2.metadata!.name!)}`)!;
    expect(Buffer.from(kept, "base64").toString()).toContain("the old token");
    expect(standin.requests.filter((r) => r.status === 409)).toEqual([]);
  });

  it("fails the launch retryably, naming the source but not the data, when the join data is bad", async () => {
    const error = await provider({
      joinData: joinDataValue(`echo ${token}`, "the AZURE_NODE_JOIN_DATA environment variable"),
    })
      .create(machine())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ name: "CreateError", conditionReason: "JoinDataInvalid" });
    expect((error as Error).message).toMatch(
      /the node join data in the AZURE_NODE_JOIN_DATA environment variable is not cloud-init/,
    );
    expect((error as Error).message).not.toContain(token);
    expect(standin.count("virtualMachines.createOrUpdate")).toBe(0);
  });

  it("writes providerIDs with the resource group in lower case, as Azure does on the Node", async () => {
    const instance = await provider({ resourceGroup: "Kaito-RG" }).create(
      machine({ metadata: { name: "ws1" } }),
    );
    expect(instance.providerID).toBe(
      `azure:///subscriptions/${standin.subscriptionId}/resourceGroups/kaito-rg/providers/Microsoft.Compute/virtualMachines/ws1`,
    );
    const cloud = provider({ resourceGroup: "Kaito-RG" });
    expect((await cloud.get(instance.providerID)).machineName).toBe("ws1");
    expect((await cloud.list()).map((i) => i.providerID)).toEqual([instance.providerID]);
  });

  it("finds the same VM when create() is repeated after a crash, finished or mid-operation", async () => {
    const m = machine();
    const first = await provider().create(m);
    const again = await provider().create(m); // a new process: no memory of the first call
    expect(again.providerID).toBe(first.providerID);
    expect(standin.count("virtualMachines.createOrUpdate")).toBe(1);

    // Crashed after ARM accepted the PUT, before the operation finished.
    const m2 = machine();
    const client = standinComputeClient(standin);
    await client.virtualMachines.beginCreateOrUpdate(resourceGroup, vmNameFor(m2.metadata!.name!), {
      location: "eastus",
      tags: { "kaito.sh/machine": m2.metadata!.name! },
      hardwareProfile: { vmSize: sku },
    });
    expect(vms().find((v) => v.name === vmNameFor(m2.metadata!.name!))?.properties.provisioningState).toBe(
      "Creating",
    );
    const resumed = await provider().create(m2);
    expect(resumed.machineName).toBe(m2.metadata!.name);
    expect(vms()).toHaveLength(2);
    expect(vms().every((v) => v.properties.provisioningState === "Succeeded")).toBe(true);
    console.log(
      `crash-repeat: ${vms().length} VMs for 2 Machines, ${standin.count("virtualMachines.createOrUpdate")} PUTs`,
    );
  });

  it("rides out a 429 storm (Retry-After) and 5xx answers inside the SDK, without retries of its own", async () => {
    standin.faults
      .add(throttle({ times: 2, retryAfterSeconds: 1, operation: "virtualMachines.createOrUpdate" }))
      .add(serverError({ times: 2, status: 503, operation: "operations.get" }));
    const started = Date.now();
    const instance = await provider().create(machine());
    expect(instance.instanceType).toBe(sku);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900); // honoured Retry-After twice
    expect(standin.faults.pending()).toBe(0);
    const puts = standin.requests.filter((r) => r.operation === "virtualMachines.createOrUpdate");
    expect(puts.map((r) => r.status)).toEqual([429, 429, 201]);
    expect(standin.requests.filter((r) => r.operation === "operations.get").map((r) => r.status)).toEqual([
      503, 503, 200, 200, 200,
    ]);
    expect(vms()).toHaveLength(1);
  });

  const kinds: [string, () => void, CapacityReason][] = [
    ["QuotaExceeded", () => standin.faults.add(quotaExceeded({ size: sku })), "quota"],
    ["OperationNotAllowed (quota)", () => standin.faults.add(operationNotAllowed({ size: sku })), "quota"],
    ["SkuNotAvailable", () => standin.faults.add(skuNotAvailable({ size: sku })), "sku"],
    [
      "AllocationFailed (409)",
      () => standin.faults.add(allocationFailed({ size: sku, sync: true })),
      "allocation",
    ],
    [
      "AllocationFailed (failed operation)",
      () => standin.faults.add(allocationFailed({ size: sku })),
      "allocation",
    ],
    [
      "ZonalAllocationFailed (failed operation)",
      () => standin.faults.add(allocationFailed({ size: sku, code: "ZonalAllocationFailed" })),
      "allocation",
    ],
  ];
  it.each(kinds)("maps %s to InsufficientCapacity naming the SKU", async (_name, inject, reason) => {
    inject();
    const error = await provider()
      .create(machine())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toSatisfy(isInsufficientCapacity);
    expect(error).toMatchObject({ reason, sku });
    expect((error as Error).message).toContain(sku);
  });

  it("reports other refusals as a retryable CreateError with ARM's message", async () => {
    standin.faults.add(operationNotAllowed({ quota: false }));
    await expect(provider().create(machine())).rejects.toMatchObject({
      name: "CreateError",
      conditionReason: "OperationNotAllowed",
      message: expect.stringContaining("resource group is locked"),
    });
  });

  it("deletes a Machine's VM, also a Failed one, and then reports NotFound", async () => {
    const cloud = provider();
    const m = machine();
    const instance = await cloud.create(m);
    await cloud.delete(m);
    expect(vms()).toHaveLength(0);
    await expect(cloud.delete(m)).rejects.toSatisfy(isMachineNotFound);
    await expect(cloud.delete(instance.providerID)).rejects.toSatisfy(isMachineNotFound);
    await expect(cloud.get(instance.providerID)).rejects.toSatisfy(isMachineNotFound);

    // An allocation failure leaves a Failed VM behind, as ARM does: deleting the Machine removes it.
    standin.faults.add(allocationFailed());
    const failed = machine();
    await expect(cloud.create(failed)).rejects.toSatisfy(isInsufficientCapacity);
    expect(vms().map((v) => v.properties.provisioningState)).toEqual(["Failed"]);
    await cloud.delete(failed);
    await expect(cloud.delete(failed)).rejects.toSatisfy(isMachineNotFound);
    expect(vms()).toHaveLength(0);
  });

  it("lists only tagged VMs of its resource group, across pages", async () => {
    const cloud = provider();
    const machines = [machine(), machine(), machine()];
    for (const m of machines) await cloud.create(m);
    // A VM someone else made in the group, and one of ours in another group.
    const client = standinComputeClient(standin);
    await client.virtualMachines.createOrUpdate(
      resourceGroup,
      "hand-made",
      {
        location: "eastus",
        hardwareProfile: { vmSize: "Standard_D4s_v5" },
      },
      { updateIntervalInMs: 10 },
    );
    await provider({ resourceGroup: "other-rg" }).create(machine());
    const listed = await cloud.list();
    expect(listed.map((i) => i.machineName).sort()).toEqual(machines.map((m) => m.metadata!.name).sort());
    expect(standin.count("virtualMachines.list")).toBe(2); // 4 VMs in the group, 2 per page
    const got = await cloud.get(listed[0]!.providerID);
    expect(got.machineName).toBe(listed[0]!.machineName);
  });

  it("offers the catalogue's sizes that ResourceSkus lists for the location", async () => {
    standin.state.skus = [
      vmSku({
        name: sku,
        family: "standardNCADSA100v4Family",
        vcpus: 24,
        memoryGiB: 220,
        gpus: 1,
        locations: { eastus: ["1", "2"] },
      }),
      vmSku({
        name: "Standard_NC4as_T4_v3",
        family: "standardNCASv3_T4Family",
        vcpus: 4,
        memoryGiB: 28,
        gpus: 1,
        locations: { westeurope: ["1"] },
      }),
    ];
    standin.state.setUsages("eastus", [usage("standardNCADSA100v4Family", 0, 96)]);
    const types = await provider().instanceTypes();
    expect(types.map((t) => t.name)).toEqual([sku]);
    expect(types[0]!.zones).toEqual(["eastus-1", "eastus-2"]);
  });

  it("reads sizes and quota together, from one ResourceSkus and one Usages listing", async () => {
    standin.state.skus = [
      vmSku({
        name: sku,
        family: "standardNCADSA100v4Family",
        vcpus: 24,
        memoryGiB: 220,
        gpus: 1,
        locations: { eastus: ["1"] },
      }),
      // Retired in the catalogue, but ARM still takes it here, so a Workspace may name it.
      vmSku({
        name: "Standard_NC6s_v3",
        family: "standardNCSv3Family",
        vcpus: 6,
        memoryGiB: 112,
        gpus: 1,
        locations: { eastus: [] },
      }),
      vmSku({
        name: "Standard_NC4as_T4_v3",
        family: "standardNCASv3_T4Family",
        vcpus: 4,
        memoryGiB: 28,
        gpus: 1,
        locations: { eastus: ["1"] },
        restrictions: [notAvailableInLocation("eastus")],
      }),
    ];
    standin.state.setUsages("eastus", [
      usage("cores", 10, 100),
      usage("standardNCADSA100v4Family", 24, 96),
      usage("standardNCSv3Family", 6, 12),
    ]);
    const offering = await provider().offering();
    expect(offering.region).toBe("eastus");
    expect(offering.instanceTypes.map((t) => t.name).sort()).toEqual([sku, "Standard_NC6s_v3"]);
    expect(offering.quota).toEqual({ standardNCADSA100v4Family: 72, standardNCSv3Family: 6 });
    // One listing each: three SKUs come in two pages of two, three usages in two pages.
    expect(standin.count("resourceSkus.list")).toBe(2);
    expect(standin.count("usages.list")).toBe(2);
  });
});
