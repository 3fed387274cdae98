// What the stand-in's ARM holds, in ARM's wire shapes. Tests seed it directly and read it back;
// handlers are the only other writers.

export interface WireCapability {
  name: string;
  value: string;
}

export interface WireRestriction {
  type: "Location" | "Zone";
  values: string[];
  restrictionInfo: { locations?: string[]; zones?: string[] };
  reasonCode: "QuotaId" | "NotAvailableForSubscription";
}

export interface WireResourceSku {
  resourceType: string;
  name: string;
  tier?: string;
  size?: string;
  family?: string;
  locations: string[];
  locationInfo: { location: string; zones?: string[] }[];
  capabilities?: WireCapability[];
  restrictions: WireRestriction[];
}

export interface WireUsage {
  unit: "Count";
  currentValue: number;
  limit: number;
  name: { value: string; localizedValue: string };
}

export class ArmState {
  readonly subscriptionId: string;
  /** Every SKU of Microsoft.Compute, across all locations, as the unfiltered list returns it. */
  skus: WireResourceSku[] = [];
  /** Usages per location (lower-case ARM location name). */
  readonly usages = new Map<string, WireUsage[]>();
  /** VMs by vmKey(resourceGroup, name). */
  readonly vms = new Map<string, WireVm>();
  /** Long-running operations by name. */
  readonly operations = new Map<string, WireOperation>();
  /**
   * Each VM's osProfile.customData (base64, as the PUT carried it) by vmKey. Kept apart from the
   * VM because ARM hands it to the VM at its first boot and never returns it in a GET or a list.
   */
  readonly customData = new Map<string, string>();

  constructor(subscriptionId: string) {
    this.subscriptionId = subscriptionId;
  }

  /** The VMs of a resource group (every group when absent). */
  vmsIn(resourceGroup?: string): WireVm[] {
    const prefix = resourceGroup === undefined ? "" : `${resourceGroup.toLowerCase()}/`;
    return [...this.vms.entries()].filter(([k]) => k.startsWith(prefix)).map(([, vm]) => vm);
  }

  setUsages(location: string, usages: WireUsage[]): void {
    this.usages.set(location.toLowerCase(), usages);
  }
}

/** A VM as ARM stores it: the PUT body plus ARM's own fields, in ARM's wire shape (properties nested). */
export interface WireVm {
  id: string;
  name: string;
  type: "Microsoft.Compute/virtualMachines";
  location: string;
  tags?: Record<string, string>;
  zones?: string[];
  properties: Record<string, unknown> & { provisioningState: string; timeCreated: string; vmId: string };
}

/** A long-running operation, as its Azure-AsyncOperation URL reports it. */
export interface WireOperation {
  name: string;
  kind: "create" | "delete";
  /** Resource group and VM name of the VM it works on. */
  resourceGroup: string;
  vmName: string;
  /** Status polls still to answer InProgress. */
  pollsLeft: number;
  status: "InProgress" | "Succeeded" | "Failed";
  /** Set when the operation is scripted to fail (e.g. AllocationFailed). */
  error?: { code: string; message: string };
  startTime: string;
  endTime?: string;
}

/** The key of a VM in ArmState.vms: ARM names are case-insensitive. */
export function vmKey(resourceGroup: string, vmName: string): string {
  return `${resourceGroup.toLowerCase()}/${vmName.toLowerCase()}`;
}
