import { createHash } from "node:crypto";

// How Machines map onto ARM names and ids. Pure functions: the same Machine always gets the same
// VM, which is what makes create() idempotent across crashes.

/** Azure's limit for a Linux VM name (and its computer name). */
export const maxVmNameLength = 64;

/**
 * The VM name of a Machine. A Machine name is a DNS label or subdomain (lower-case letters,
 * digits, '-' and '.'), which Azure accepts as is up to 64 characters, except that a VM name may
 * not end in '.' or '-'. A longer or otherwise awkward name keeps a readable prefix plus a hash of
 * the whole name, so two Machines never share a VM.
 */
export function vmNameFor(machineName: string): string {
  const clean = machineName.toLowerCase().replace(/[^a-z0-9.-]/g, "-");
  if (
    clean === machineName &&
    clean.length <= maxVmNameLength &&
    /^[a-z0-9]/.test(clean) &&
    /[a-z0-9]$/.test(clean)
  )
    return clean;
  const hash = createHash("sha256").update(machineName).digest("hex").slice(0, 10);
  const prefix = clean
    .slice(0, maxVmNameLength - hash.length - 1)
    .replace(/^[^a-z0-9]+/, "")
    .replace(/[.-]+$/, "");
  return prefix ? `${prefix}-${hash}` : `vm-${hash}`;
}

/** The ARM id of a VM, which is also the AKS providerID without its `azure://` scheme. */
export function vmResourceId(subscriptionId: string, resourceGroup: string, vmName: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vmName}`;
}

/**
 * The providerID an Azure VM's Node carries: azure:// followed by the VM's ARM id, with the
 * resource group in lower case as Azure writes it (karpenter-provider-azure pkg/utils/utils.go,
 * VMResourceIDToProviderID), so the Machine holds the same string its Node will.
 */
export function providerIdFor(subscriptionId: string, resourceGroup: string, vmName: string): string {
  return `azure://${vmResourceId(subscriptionId, resourceGroup.toLowerCase(), vmName)}`;
}

const providerIdPattern =
  /^azure:\/\/\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i;

/** The parts of an AKS-style providerID; undefined for anything else (another cloud, a scale set VM). */
export function parseProviderId(
  providerID: string,
): { subscriptionId: string; resourceGroup: string; vmName: string } | undefined {
  const m = providerIdPattern.exec(providerID);
  return m ? { subscriptionId: m[1]!, resourceGroup: m[2]!, vmName: m[3]! } : undefined;
}

/**
 * The zone number ARM wants ("1") for a topology.kubernetes.io/zone value, which AKS spells
 * `<location>-<n>` ("eastus-1"); a bare number is taken as is.
 */
export function armZoneOf(zoneLabel: string): string | undefined {
  const m = /^(?:[a-z0-9]+-)?(\d+)$/i.exec(zoneLabel);
  return m ? m[1] : undefined;
}

/** The topology.kubernetes.io/zone value of a VM: `<location>-<n>`, or "0" for a regional VM as AKS labels it. */
export function zoneLabelOf(location: string, armZone: string | undefined): string {
  return armZone ? `${location.toLowerCase()}-${armZone}` : "0";
}
