import type { ArmState, WireResourceSku, WireRestriction, WireUsage } from "./state.ts";

export interface VmSkuSpec {
  name: string;
  family: string;
  vcpus: number;
  memoryGiB: number;
  gpus: number;
  /** Location -> zones offered there ([] for a region without zones). */
  locations: Record<string, string[]>;
  restrictions?: WireRestriction[];
}

/** A virtualMachines ResourceSku as ARM lists it. */
export function vmSku(spec: VmSkuSpec): WireResourceSku {
  const locations = Object.keys(spec.locations);
  return {
    resourceType: "virtualMachines",
    name: spec.name,
    tier: "Standard",
    size: spec.name.replace(/^Standard_/, ""),
    family: spec.family,
    locations,
    locationInfo: locations.map((location) => ({ location, zones: spec.locations[location] })),
    capabilities: [
      { name: "vCPUs", value: String(spec.vcpus) },
      { name: "MemoryGB", value: String(spec.memoryGiB) },
      { name: "GPUs", value: String(spec.gpus) },
      { name: "HyperVGenerations", value: "V2" },
    ],
    restrictions: spec.restrictions ?? [],
  };
}

/** The restriction ARM reports for a SKU the subscription may not use in a location. */
export function notAvailableInLocation(location: string): WireRestriction {
  return {
    type: "Location",
    values: [location],
    restrictionInfo: { locations: [location] },
    reasonCode: "NotAvailableForSubscription",
  };
}

/** The restriction ARM reports for zones of a location closed to the subscription. */
export function notAvailableInZones(location: string, zones: string[]): WireRestriction {
  return {
    type: "Zone",
    values: [location],
    restrictionInfo: { locations: [location], zones },
    reasonCode: "NotAvailableForSubscription",
  };
}

/** One Compute Usages entry; `localizedValue` defaults to ARM's "<name> vCPUs" style. */
export function usage(
  name: string,
  currentValue: number,
  limit: number,
  localizedValue = `${name} vCPUs`,
): WireUsage {
  return { unit: "Count", currentValue, limit, name: { value: name, localizedValue } };
}

export interface SubscriptionSeed {
  /** The sizes ResourceSkus lists (every one in `location`, without zones). */
  skus: readonly { name: string; family: string; vcpus: number; memoryGiB: number; gpus: number }[];
  location: string;
  /** Sizes closed to the subscription in the location. */
  restricted?: readonly string[];
  /** Families Usages reports as used up; the others have 1,000 vCPUs free. */
  exhaustedFamilies?: readonly string[];
}

/** Fills the stand-in's ResourceSkus and Usages for one location, as a subscription would see them. */
export function seedSubscription(state: ArmState, seed: SubscriptionSeed): void {
  const restricted = new Set(seed.restricted ?? []);
  const exhausted = new Set(seed.exhaustedFamilies ?? []);
  state.skus = seed.skus.map((s) =>
    vmSku({
      name: s.name,
      family: s.family,
      vcpus: s.vcpus,
      memoryGiB: s.memoryGiB,
      gpus: s.gpus,
      locations: { [seed.location]: [] },
      ...(restricted.has(s.name) ? { restrictions: [notAvailableInLocation(seed.location)] } : {}),
    }),
  );
  const families = [...new Set(seed.skus.map((s) => s.family))];
  state.setUsages(seed.location, [
    usage("cores", 64, 5_000, "Total Regional vCPUs"),
    ...families.map((f) => (exhausted.has(f) ? usage(f, 64, 64) : usage(f, 0, 1_000))),
  ]);
}
