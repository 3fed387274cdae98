// How providerIDs compare. A Machine's providerID is what its cloud backend reported at launch; a
// Node's is what the node's own agents wrote when it registered. For most clouds the two are the
// same string, but Azure writes the resource group of a VM's providerID in lower case on the Node
// ("for historical reasons", cloud-provider-azure's ConvertResourceGroupNameToLower, inlined in
// karpenter-provider-azure pkg/utils/utils.go VMResourceIDToProviderID) whatever case the group
// was created with, and ARM names are case-insensitive anyway. Everything that matches a Machine to
// its Node by providerID goes through providerIdKey() so a group named "Kaito-RG" still matches.

const azureProviderId = /^azure:\/\/(\/subscriptions\/[^/]+\/resourceGroups\/)([^/]+)(\/.*)?$/i;

/**
 * The form in which a providerID is compared and indexed: an `azure://` providerID with its
 * resource-group segment in lower case (and the `resourceGroups` keyword as ARM spells it); any
 * other providerID exactly as written.
 */
export function providerIdKey(providerID: string): string {
  const m = azureProviderId.exec(providerID);
  if (!m) return providerID;
  const prefix = m[1]!.replace(/\/resourcegroups\/$/i, "/resourceGroups/");
  return `azure://${prefix}${m[2]!.toLowerCase()}${m[3] ?? ""}`;
}

/** True when two providerIDs name the same instance. */
export function sameProviderID(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  return providerIdKey(a) === providerIdKey(b);
}
