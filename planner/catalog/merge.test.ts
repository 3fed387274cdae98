import { describe, expect, it } from "vitest";
import { mergeRegionInventory, type ArmResourceSku, type ArmUsage } from "./merge.ts";
import type { Catalog, Sku } from "./types.ts";

function sku(name: string, family: string, over: Partial<Sku> = {}): Sku {
  return {
    name,
    series: "S",
    family,
    vcpus: 24,
    memoryGiB: 220,
    gpus: 1,
    gpuFraction: 1,
    gpuModel: "A100",
    gpuMemoryGiB: 80,
    nvlink: false,
    infiniband: false,
    pricePerHour: 3.673,
    priceRegion: "eastus",
    priceAsOf: "2026-11-25",
    ...over,
  };
}

const catalog: Catalog = {
  skus: [
    sku("Standard_NC24ads_A100_v4", "standardNCADSA100v4Family"),
    sku("Standard_NC4as_T4_v3", "standardNCASv3_T4Family", { vcpus: 4, memoryGiB: 28, gpuMemoryGiB: 16 }),
    sku("Standard_ND96isr_H100_v5", "standardNDSH100v5Family", { vcpus: 96, gpus: 8 }),
    sku("Standard_NV6ads_A10_v5", "standardNVADSA10v5Family", {
      vcpus: 6,
      gpuFraction: 1 / 6,
      gpuMemoryGiB: 4,
    }),
    sku("Standard_NC40ads_H100_v5", "standardNCadsH100v5Family", { vcpus: 40 }),
  ],
};

function arm(name: string, family: string, extra: Partial<ArmResourceSku> = {}): ArmResourceSku {
  return {
    resourceType: "virtualMachines",
    name,
    family,
    locations: ["eastus"],
    locationInfo: [{ location: "eastus", zones: ["3", "1", "2"] }],
    restrictions: [],
    ...extra,
  };
}

const usage = (value: string, currentValue: number, limit: number): ArmUsage => ({
  unit: "Count",
  currentValue,
  limit,
  name: { value },
});

describe("mergeRegionInventory", () => {
  it("keeps the SKUs ARM offers in the region, with their open zones", () => {
    const refreshed = mergeRegionInventory(catalog, {
      region: "EastUS",
      skus: [
        arm("standard_nc24ads_a100_v4", "StandardNCADSA100v4Family", {
          restrictions: [
            {
              type: "Zone",
              values: ["eastus"],
              restrictionInfo: { locations: ["eastus"], zones: ["2"] },
              reasonCode: "NotAvailableForSubscription",
            },
          ],
        }),
        arm("Standard_NC4as_T4_v3", "Standard NCASv3_T4 Family"),
        arm("Standard_NV6ads_A10_v5", "standardNVADSA10v5Family", { locationInfo: [{ location: "eastus" }] }),
      ],
      usages: [],
    });
    expect(refreshed.region).toBe("eastus");
    expect(refreshed.skus.map((s) => [s.name, s.zones])).toEqual([
      ["Standard_NC24ads_A100_v4", ["1", "3"]],
      ["Standard_NC4as_T4_v3", ["1", "2", "3"]],
      ["Standard_NV6ads_A10_v5", []],
    ]);
    expect(refreshed.unavailable).toEqual([
      { name: "Standard_ND96isr_H100_v5", reason: "NotOffered" },
      { name: "Standard_NC40ads_H100_v5", reason: "NotOffered" },
    ]);
    // Family spellings that differ only in case and spaces are the same family.
    expect(refreshed.drift).toEqual([]);
  });

  it("drops SKUs with a Location restriction and says why", () => {
    const restricted = (reasonCode: string) =>
      [
        { type: "Location", values: ["eastus"], restrictionInfo: { locations: ["eastus"] }, reasonCode },
      ] as const;
    const refreshed = mergeRegionInventory(catalog, {
      region: "eastus",
      skus: [
        arm("Standard_ND96isr_H100_v5", "standardNDSH100v5Family", {
          restrictions: restricted("NotAvailableForSubscription"),
        }),
        arm("Standard_NC40ads_H100_v5", "standardNCadsH100v5Family", { restrictions: restricted("QuotaId") }),
        // A restriction for another region is not ours.
        arm("Standard_NC24ads_A100_v4", "standardNCADSA100v4Family", {
          restrictions: [
            {
              type: "Location",
              values: ["westus"],
              restrictionInfo: { locations: ["westus"] },
              reasonCode: "NotAvailableForSubscription",
            },
          ],
        }),
      ],
      usages: [],
    });
    expect(refreshed.skus.map((s) => s.name)).toEqual(["Standard_NC24ads_A100_v4"]);
    expect(refreshed.unavailable).toContainEqual({
      name: "Standard_ND96isr_H100_v5",
      reason: "NotAvailableForSubscription",
    });
    expect(refreshed.unavailable).toContainEqual({ name: "Standard_NC40ads_H100_v5", reason: "QuotaId" });
  });

  it("takes ARM's figures where they differ and records the drift", () => {
    const refreshed = mergeRegionInventory(catalog, {
      region: "eastus",
      skus: [
        arm("Standard_NC24ads_A100_v4", "standardNCADSv4Family", {
          capabilities: [
            { name: "vCPUs", value: "24" },
            { name: "MemoryGB", value: "216" },
            { name: "GPUs", value: "2" },
          ],
        }),
        // ARM may count a vGPU slice differently; it stays one advertised GPU.
        arm("Standard_NV6ads_A10_v5", "standardNVADSA10v5Family", {
          capabilities: [{ name: "GPUs", value: "0" }],
        }),
      ],
      usages: [],
    });
    expect(refreshed.skus[0]).toMatchObject({
      memoryGiB: 216,
      gpus: 2,
      vcpus: 24,
      family: "standardNCADSv4Family",
    });
    expect(refreshed.skus[1]).toMatchObject({ gpus: 1 });
    expect(refreshed.drift).toEqual([
      { name: "Standard_NC24ads_A100_v4", field: "memoryGiB", catalogue: 220, arm: 216 },
      { name: "Standard_NC24ads_A100_v4", field: "gpus", catalogue: 1, arm: 2 },
      {
        name: "Standard_NC24ads_A100_v4",
        field: "family",
        catalogue: "standardNCADSA100v4Family",
        arm: "standardNCADSv4Family",
      },
    ]);
  });

  it("turns Usages into vCPU headroom per family, capped by the regional total", () => {
    const refreshed = mergeRegionInventory(catalog, {
      region: "eastus",
      skus: [
        arm("Standard_NC24ads_A100_v4", "standardNCADSA100v4Family"),
        arm("Standard_NC4as_T4_v3", "standardNCASv3_T4Family"),
        arm("Standard_ND96isr_H100_v5", "standardNDSH100v5Family"),
        arm("Standard_NC40ads_H100_v5", "standardNCadsH100v5Family"),
      ],
      usages: [
        usage("cores", 40, 100),
        usage("StandardNCADSA100v4Family", 24, 48),
        usage("Standard NCASv3_T4 Family", 0, 200),
        // Over quota (ARM allows it after a limit decrease): no headroom, not negative.
        usage("standardNDSH100v5Family", 192, 96),
        usage("virtualMachines", 3, 25000),
      ],
    });
    expect(refreshed.regionalVcpuHeadroom).toBe(60);
    expect(refreshed.quota).toEqual({
      standardNCADSA100v4Family: 24,
      standardNCASv3_T4Family: 60,
      standardNDSH100v5Family: 0,
    });
    expect(refreshed.quotaUnknown).toEqual(["standardNCadsH100v5Family"]);
  });

  it("yields a catalogue that converts like the snapshot", () => {
    const refreshed = mergeRegionInventory(catalog, {
      region: "eastus",
      skus: [arm("Standard_NC4as_T4_v3", "x")],
      usages: [],
    });
    expect(Object.isFrozen(refreshed.skus)).toBe(true);
    expect(refreshed.skus).toHaveLength(1);
  });
});
