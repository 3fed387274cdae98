import type { VirtualMachine } from "@azure/arm-compute";
import { instanceTypeLabel, zoneLabel } from "../../../crds/index.ts";
import { findSku, type Catalog } from "../../../planner/catalog/index.ts";
import { gpuLabels, machineNameLabel, regionLabel, skuCapacity } from "../local/node.ts";
import type { Instance } from "../types.ts";
import { providerIdFor, vmNameFor, zoneLabelOf } from "./names.ts";

/** The tag that marks a VM as a Machine's instance, holding the Machine's name. */
export const machineTag = machineNameLabel;

export interface InstanceContext {
  subscriptionId: string;
  resourceGroup: string;
  location: string;
  catalog: Catalog;
  /** Stands in for a missing timeCreated, so garbage collection treats the VM as young. */
  now: number;
}

/** The instance a VM is, with the capacity and labels its node will report. */
export function instanceFromVm(vm: VirtualMachine, c: InstanceContext): Instance {
  const machineName = vm.tags?.[machineTag] ?? vm.name ?? "";
  const vmName = vm.name ?? vmNameFor(machineName);
  const size = vm.hardwareProfile?.vmSize ?? "";
  const sku = findSku(size, c.catalog);
  const location = (vm.location ?? c.location).toLowerCase();
  const zone = zoneLabelOf(location, vm.zones?.[0]);
  const created = vm.timeCreated ? new Date(vm.timeCreated).getTime() : Number.NaN;
  return {
    providerID: providerIdFor(c.subscriptionId, c.resourceGroup, vmName),
    machineName,
    instanceType: size,
    zone,
    capacity: sku ? skuCapacity(sku) : {},
    labels: {
      [instanceTypeLabel]: size,
      [zoneLabel]: zone,
      [regionLabel]: location,
      ...(sku ? gpuLabels(sku) : {}),
    },
    createdAt: Number.isNaN(created) ? c.now : created,
  };
}
