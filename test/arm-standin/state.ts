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

  constructor(subscriptionId: string) {
    this.subscriptionId = subscriptionId;
  }

  setUsages(location: string, usages: WireUsage[]): void {
    this.usages.set(location.toLowerCase(), usages);
  }
}
