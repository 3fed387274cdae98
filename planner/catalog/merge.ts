import { normalizeFamily } from "./family.ts";
import type { Catalog, Sku } from "./types.ts";

// The ARM shapes this module reads, kept structural so the merge needs no SDK: the SDK's
// ResourceSku and Usage models satisfy them.

export interface ArmResourceSku {
  readonly resourceType?: string;
  readonly name?: string;
  readonly family?: string;
  readonly locations?: readonly string[];
  readonly locationInfo?: readonly { readonly location?: string; readonly zones?: readonly string[] }[];
  readonly capabilities?: readonly { readonly name?: string; readonly value?: string }[];
  readonly restrictions?: readonly ArmRestriction[];
}

export interface ArmRestriction {
  readonly type?: string;
  readonly values?: readonly string[];
  readonly restrictionInfo?: { readonly locations?: readonly string[]; readonly zones?: readonly string[] };
  readonly reasonCode?: string;
}

export interface ArmUsage {
  readonly unit?: string;
  readonly currentValue: number;
  readonly limit: number;
  readonly name: { readonly value?: string; readonly localizedValue?: string };
}

/** What ARM said about one region: its VM SKUs and the subscription's usages there. */
export interface RegionInventory {
  readonly region: string;
  readonly skus: readonly ArmResourceSku[];
  readonly usages: readonly ArmUsage[];
}

/** A catalogue SKU that the subscription can create in the region. */
export interface RegionalSku extends Sku {
  readonly region: string;
  /** Availability zones open to the subscription; empty for a region without zones. */
  readonly zones: readonly string[];
}

export type UnavailableReason = "NotOffered" | "NotAvailableForSubscription" | "QuotaId";

export interface UnavailableSku {
  readonly name: string;
  readonly reason: UnavailableReason;
}

/** A catalogue figure ARM contradicts; the refreshed catalogue takes ARM's value. */
export interface SkuDrift {
  readonly name: string;
  readonly field: "vcpus" | "memoryGiB" | "gpus" | "family";
  readonly catalogue: string | number;
  readonly arm: string | number;
}

export interface RefreshedCatalog extends Catalog {
  readonly region: string;
  /** The SKUs usable in the region, with ARM's figures where they differ from the snapshot. */
  readonly skus: readonly RegionalSku[];
  readonly unavailable: readonly UnavailableSku[];
  /**
   * vCPU headroom (limit - current, never negative) per family of an available SKU, keyed by
   * that SKU's `family`, capped by the regional total: the planning problem's `quota`.
   */
  readonly quota: Readonly<Record<string, number>>;
  /** Headroom of "Total Regional vCPUs" (usage `cores`), which every family shares. */
  readonly regionalVcpuHeadroom?: number;
  /** Families of available SKUs that Usages did not mention: their quota is unknown. */
  readonly quotaUnknown: readonly string[];
  readonly drift: readonly SkuDrift[];
}

/** Joins the snapshot with what ARM reported for one region. Pure: no I/O, no clock. */
export function mergeRegionInventory(catalog: Catalog, inventory: RegionInventory): RefreshedCatalog {
  const region = inventory.region.toLowerCase();
  const armByName = new Map<string, ArmResourceSku>();
  for (const s of inventory.skus) {
    if (s.name && (s.resourceType ?? "virtualMachines").toLowerCase() === "virtualmachines") {
      armByName.set(s.name.toLowerCase(), s);
    }
  }

  const skus: RegionalSku[] = [];
  const unavailable: UnavailableSku[] = [];
  const drift: SkuDrift[] = [];
  for (const sku of catalog.skus) {
    const arm = armByName.get(sku.name.toLowerCase());
    const verdict: Verdict = arm ? availability(arm, region) : { available: false, reason: "NotOffered" };
    if (!arm || !verdict.available) {
      unavailable.push({ name: sku.name, reason: verdict.available ? "NotOffered" : verdict.reason });
      continue;
    }
    const corrected = applyArmFigures(sku, arm, drift);
    skus.push(Object.freeze({ ...corrected, region, zones: Object.freeze(verdict.zones) }));
  }

  const { quota, quotaUnknown, regionalVcpuHeadroom } = quotaFor(skus, inventory.usages);
  return Object.freeze({
    region,
    skus: Object.freeze(skus),
    unavailable: Object.freeze(unavailable),
    quota: Object.freeze(quota),
    ...(regionalVcpuHeadroom === undefined ? {} : { regionalVcpuHeadroom }),
    quotaUnknown: Object.freeze(quotaUnknown),
    drift: Object.freeze(drift),
  });
}

type Verdict = { available: true; zones: string[] } | { available: false; reason: UnavailableReason };

function availability(arm: ArmResourceSku, region: string): Verdict {
  const inRegion = (values: readonly string[] | undefined) =>
    (values ?? []).some((v) => v.toLowerCase() === region);
  const info = (arm.locationInfo ?? []).find((l) => l.location?.toLowerCase() === region);
  if (!info && !inRegion(arm.locations)) return { available: false, reason: "NotOffered" };

  let zones = [...(info?.zones ?? [])];
  for (const r of arm.restrictions ?? []) {
    const type = r.type?.toLowerCase();
    // A Location restriction closes the whole region; a Zone restriction closes only the
    // listed zones, and a regional (zone-less) VM can still be created.
    if (type === "location" && (inRegion(r.values) || inRegion(r.restrictionInfo?.locations))) {
      return {
        available: false,
        reason: r.reasonCode === "QuotaId" ? "QuotaId" : "NotAvailableForSubscription",
      };
    }
    if (type === "zone" && (inRegion(r.values) || inRegion(r.restrictionInfo?.locations))) {
      const closed = new Set(r.restrictionInfo?.zones ?? []);
      zones = zones.filter((z) => !closed.has(z));
    }
  }
  return { available: true, zones: zones.sort() };
}

function applyArmFigures(sku: Sku, arm: ArmResourceSku, drift: SkuDrift[]): Sku {
  const caps = new Map((arm.capabilities ?? []).map((c) => [c.name?.toLowerCase(), c.value]));
  const next: { -readonly [K in keyof Sku]: Sku[K] } = { ...sku };
  const take = (field: "vcpus" | "memoryGiB" | "gpus", capability: string) => {
    const value = Number(caps.get(capability));
    if (caps.has(capability) && Number.isFinite(value) && value > 0 && value !== sku[field]) {
      drift.push({ name: sku.name, field, catalogue: sku[field], arm: value });
      next[field] = value;
    }
  };
  take("vcpus", "vcpus");
  take("memoryGiB", "memorygb");
  // A vGPU slice is one advertised GPU however ARM counts it; only whole-GPU sizes follow ARM.
  if (sku.gpuFraction === 1) take("gpus", "gpus");
  if (arm.family && normalizeFamily(arm.family) !== normalizeFamily(sku.family)) {
    drift.push({ name: sku.name, field: "family", catalogue: sku.family, arm: arm.family });
    next.family = arm.family;
  }
  return next;
}

function quotaFor(skus: readonly RegionalSku[], usages: readonly ArmUsage[]) {
  const headroom = new Map<string, number>();
  for (const u of usages) {
    if (u.name.value === undefined || (u.unit !== undefined && u.unit !== "Count")) continue;
    headroom.set(normalizeFamily(u.name.value), Math.max(0, u.limit - u.currentValue));
  }
  // "cores" is ARM's name for Total Regional vCPUs.
  const regionalVcpuHeadroom = headroom.get("cores");
  const quota: Record<string, number> = {};
  const quotaUnknown: string[] = [];
  for (const sku of skus) {
    if (sku.family in quota || quotaUnknown.includes(sku.family)) continue;
    const family = headroom.get(normalizeFamily(sku.family));
    if (family === undefined) {
      quotaUnknown.push(sku.family);
      continue;
    }
    quota[sku.family] = regionalVcpuHeadroom === undefined ? family : Math.min(family, regionalVcpuHeadroom);
  }
  return { quota, quotaUnknown, regionalVcpuHeadroom };
}
