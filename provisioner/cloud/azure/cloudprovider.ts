import type { ComputeManagementClient, ImageReference, VirtualMachine } from "@azure/arm-compute";
import { systemClock, type Clock } from "../../../lib/clock.ts";
import { silentLogger, type Logger } from "../../../lib/log.ts";
import type { Machine } from "../../../crds/index.ts";
import { findSku, loadCatalog, refreshCatalog, type Catalog } from "../../../planner/catalog/index.ts";
import { allowedInstanceTypes, allowedZones } from "../../requirements.ts";
import { CreateError, MachineNotFoundError } from "../errors.ts";
import type { CloudProvider, Instance, InstanceType, Offering } from "../types.ts";
import { skuCapacity } from "../local/node.ts";
import { createFailure, isArmNotFound, lookupFailure } from "./errors.ts";
import { instanceFromVm, machineTag } from "./instance.ts";
import { kubeletRegistration, loadJoinData, type JoinDataSource } from "./joindata.ts";
import { armZoneOf, parseProviderId, providerIdFor, vmNameFor, zoneLabelOf } from "./names.ts";

export interface AzureCloudOptions {
  /** The real SDK client; tests point it at the ARM stand-in. */
  client: ComputeManagementClient;
  subscriptionId: string;
  /** Where the VMs live: list() and garbage collection look only here. */
  resourceGroup: string;
  /** ARM location, e.g. eastus. */
  location: string;
  /** The node image (an AKS node image or any Ubuntu with the NVIDIA driver). */
  image: ImageReference;
  /** ARM id of the subnet the VMs' NICs join (the cluster's node subnet). */
  subnetId: string;
  adminUsername?: string;
  /** OpenSSH public key for adminUsername; password login stays disabled either way. */
  sshPublicKey?: string;
  /**
   * The cloud-init that joins each VM to the cluster (see ./joindata.ts), read for every new VM.
   * Required: a plain VM without it boots and never registers.
   */
  joinData: JoinDataSource;
  /** Extra tags on every VM (cost centre...). kaito.sh/machine is always set. */
  tags?: Record<string, string>;
  /** How often the SDK polls a long-running operation without Retry-After (SDK default 2 s). */
  pollIntervalMs?: number;
  catalog?: Catalog;
  clock?: Clock;
  log?: Logger;
}

/**
 * One Azure VM per Machine. The VM's name comes from the Machine's name and its create is ARM's
 * idempotent PUT, so a create repeated after a crash lands on the same VM. The NIC and OS disk are
 * declared inline with deleteOption Delete, so deleting the VM leaves nothing billable behind.
 * Every ARM failure goes through ./errors.ts; throttling and 5xx are the SDK pipeline's to retry.
 */
export class AzureCloudProvider implements CloudProvider {
  readonly name = "azure";
  private readonly o: AzureCloudOptions;
  private readonly client: ComputeManagementClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly catalog: Catalog;

  constructor(o: AzureCloudOptions) {
    this.o = o;
    this.client = o.client;
    this.clock = o.clock ?? systemClock;
    this.log = (o.log ?? silentLogger).with({ cloud: "azure" });
    this.catalog = o.catalog ?? loadCatalog();
  }

  async create(machine: Machine): Promise<Instance> {
    const machineName = machine.metadata!.name!;
    const vmName = vmNameFor(machineName);
    const existing = await this.readVm(vmName);
    if (existing) {
      const owner = existing.tags?.[machineTag];
      if (owner !== machineName) {
        throw new CreateError(
          "VmNameTaken",
          `VM ${vmName} exists in ${this.o.resourceGroup} but belongs to ${owner ? `Machine ${owner}` : "no Machine"}; delete it or rename the Machine.`,
        );
      }
      // Created by an earlier call whose answer was lost: finished, or still going, in which
      // case the same PUT below waits for it instead of starting a second VM.
      if ((existing.provisioningState ?? "").toLowerCase() === "succeeded") return this.toInstance(existing);
    }

    const size = allowedInstanceTypes(machine)?.[0];
    if (!size) {
      throw new CreateError(
        "NoInstanceType",
        `Machine ${machineName} names no node.kubernetes.io/instance-type.`,
      );
    }
    const zoneLabel = allowedZones(machine)?.[0];
    const zone = zoneLabel === undefined ? undefined : armZoneOf(zoneLabel);
    if (zoneLabel !== undefined && zone === undefined) {
      throw new CreateError(
        "InvalidZone",
        `zone "${zoneLabel}" is not an Azure zone such as ${this.o.location}-1.`,
      );
    }
    // The same body every time: a PUT equal to what ARM holds is a no-op, not a second VM. The join
    // data goes only into the first PUT: ARM refuses to change a VM's customData
    // (PropertyChangeNotAllowed) and keeps it when a later PUT leaves it out, so a VM resumed after
    // a restart keeps the data it was created with even when the file has changed since.
    const customData = existing ? undefined : await this.customDataFor(machine, vmName);
    const body = this.vmBody(machineName, vmName, size, zone, customData);
    this.log.info("creating VM", { machine: machineName, vm: vmName, size, zone });
    let vm: VirtualMachine;
    try {
      vm = await this.client.virtualMachines.createOrUpdate(this.o.resourceGroup, vmName, body, {
        updateIntervalInMs: this.o.pollIntervalMs,
      });
    } catch (e) {
      const failure = createFailure(e, size, vmName);
      this.log.warn("creating VM failed", { machine: machineName, vm: vmName, size, error: failure.message });
      throw failure;
    }
    this.log.info("created VM", { machine: machineName, vm: vmName, size });
    return this.toInstance(vm);
  }

  async delete(target: Machine | string): Promise<void> {
    let vmName: string;
    let id: string;
    if (typeof target === "string") {
      const parsed = parseProviderId(target);
      if (!parsed || parsed.resourceGroup.toLowerCase() !== this.o.resourceGroup.toLowerCase())
        throw new MachineNotFoundError(target);
      vmName = parsed.vmName;
      id = target;
    } else {
      vmName = vmNameFor(target.metadata?.name ?? "");
      id = providerIdFor(this.o.subscriptionId, this.o.resourceGroup, vmName);
    }
    // ARM answers a DELETE of a missing VM with 204 like a successful one, so only a GET can
    // prove the VM is gone.
    const vm = await this.readVm(vmName);
    if (!vm) throw new MachineNotFoundError(id);
    this.log.info("deleting VM", { vm: vmName });
    try {
      await this.client.virtualMachines.delete(this.o.resourceGroup, vmName, {
        updateIntervalInMs: this.o.pollIntervalMs,
      });
    } catch (e) {
      throw lookupFailure(e, id, `deleting VM ${vmName}`);
    }
  }

  async get(providerID: string): Promise<Instance> {
    const parsed = parseProviderId(providerID);
    if (!parsed || parsed.resourceGroup.toLowerCase() !== this.o.resourceGroup.toLowerCase())
      throw new MachineNotFoundError(providerID);
    const vm = await this.readVm(parsed.vmName);
    if (!vm?.tags?.[machineTag]) throw new MachineNotFoundError(providerID);
    return this.toInstance(vm);
  }

  async list(): Promise<Instance[]> {
    const out: Instance[] = [];
    try {
      for await (const vm of this.client.virtualMachines.list(this.o.resourceGroup)) {
        if (vm.tags?.[machineTag]) out.push(this.toInstance(vm));
      }
    } catch (e) {
      throw lookupFailure(e, this.o.resourceGroup, `listing the VMs of ${this.o.resourceGroup}`);
    }
    return out;
  }

  /** The catalogue's sizes that ResourceSkus offers this subscription in the location. */
  async instanceTypes(): Promise<InstanceType[]> {
    return (await this.offering()).instanceTypes;
  }

  /**
   * One ResourceSkus and one Usages listing, joined with the catalogue: the sizes ResourceSkus
   * offers here without a Location restriction, and each family's vCPU headroom (capped by the
   * regional total). A size ResourceSkus lists is offered even when the catalogue marks it
   * retired: ARM's answer is the one that counts for launching it.
   */
  async offering(signal?: AbortSignal): Promise<Offering> {
    const regional = await refreshCatalog({
      client: this.client,
      region: this.o.location,
      catalog: this.catalog,
      signal,
    });
    return {
      region: regional.region,
      instanceTypes: regional.skus.map((s) => ({
        name: s.name,
        family: s.family,
        capacity: skuCapacity(s),
        zones: s.zones.map((z) => zoneLabelOf(regional.region, z)),
        pricePerHour: s.pricePerHour,
      })),
      quota: { ...regional.quota },
    };
  }

  private async readVm(vmName: string): Promise<VirtualMachine | undefined> {
    try {
      return await this.client.virtualMachines.get(this.o.resourceGroup, vmName);
    } catch (e) {
      if (isArmNotFound(e)) return undefined;
      throw lookupFailure(e, vmName, `reading VM ${vmName}`);
    }
  }

  private toInstance(vm: VirtualMachine): Instance {
    return instanceFromVm(vm, {
      subscriptionId: this.o.subscriptionId,
      resourceGroup: this.o.resourceGroup,
      location: this.o.location,
      catalog: this.catalog,
      now: this.clock.now(),
    });
  }

  /** The VM's customData: the join data with this Machine's labels and taints filled in. */
  private async customDataFor(machine: Machine, vmName: string): Promise<string> {
    try {
      const joinData = await loadJoinData(this.o.joinData);
      return joinData.customDataFor(kubeletRegistration(machine));
    } catch (e) {
      // The message names the source and what is wrong with it, never the data.
      throw new CreateError(
        "JoinDataInvalid",
        `cannot give VM ${vmName} its join data: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private vmBody(
    machineName: string,
    vmName: string,
    size: string,
    zone: string | undefined,
    customData: string | undefined,
  ): VirtualMachine {
    const sku = findSku(size, this.catalog);
    const adminUsername = this.o.adminUsername ?? "azureuser";
    return {
      location: this.o.location,
      tags: { ...this.o.tags, [machineTag]: machineName },
      ...(zone ? { zones: [zone] } : {}),
      hardwareProfile: { vmSize: sku?.name ?? size },
      storageProfile: {
        imageReference: this.o.image,
        osDisk: { createOption: "FromImage", deleteOption: "Delete", managedDisk: {} },
      },
      osProfile: {
        computerName: vmName,
        adminUsername,
        ...(customData ? { customData } : {}),
        linuxConfiguration: {
          disablePasswordAuthentication: true,
          ...(this.o.sshPublicKey
            ? {
                ssh: {
                  publicKeys: [
                    { path: `/home/${adminUsername}/.ssh/authorized_keys`, keyData: this.o.sshPublicKey },
                  ],
                },
              }
            : {}),
        },
      },
      networkProfile: {
        networkApiVersion: "2020-11-01",
        networkInterfaceConfigurations: [
          {
            name: `${vmName}-nic`,
            primary: true,
            deleteOption: "Delete",
            ipConfigurations: [{ name: "ipconfig1", primary: true, subnet: { id: this.o.subnetId } }],
          },
        ],
      },
    };
  }
}
