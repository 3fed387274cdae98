import { describe, expect, it } from "vitest";
import { findSku, loadCatalog, mustFindSku, toCatalogEntries, toCatalogEntry } from "./catalog.ts";
import { isCatalogError } from "./errors.ts";

describe("embedded catalogue", () => {
  const catalog = loadCatalog();

  it("validates and holds every series the planner is meant to offer", () => {
    const series = new Set(catalog.skus.map((s) => s.series));
    for (const s of [
      "NCasT4_v3",
      "NCv3",
      "NVadsA10_v5",
      "NC_A100_v4",
      "NDasrA100_v4",
      "NDm_A100_v4",
      "NCads_H100_v5",
      "ND_H100_v5",
      "ND_H200_v5",
    ]) {
      expect(series).toContain(s);
    }
  });

  it("keeps per-GPU memory consistent with the documented per-VM accelerator memory", () => {
    // Azure's tables give GPU memory per VM; a few spot checks that we divided correctly.
    const perVm = (name: string) => {
      const s = mustFindSku(name);
      return s.gpus * s.gpuMemoryGiB;
    };
    expect(perVm("Standard_NC64as_T4_v3")).toBe(64);
    expect(perVm("Standard_NC48ads_A100_v4")).toBe(160);
    expect(perVm("Standard_ND96asr_v4")).toBe(320);
    expect(perVm("Standard_ND96isr_H100_v5")).toBe(640);
    expect(perVm("Standard_ND96isr_H200_v5")).toBe(1128);
    expect(perVm("Standard_NC80adis_H100_v5")).toBe(188);
  });

  it("records fractional vGPU sizes as one GPU with the slice's memory", () => {
    expect(mustFindSku("Standard_NV6ads_A10_v5")).toMatchObject({
      gpus: 1,
      gpuFraction: 1 / 6,
      gpuMemoryGiB: 4,
    });
    expect(mustFindSku("Standard_NV18ads_A10_v5")).toMatchObject({
      gpus: 1,
      gpuFraction: 0.5,
      gpuMemoryGiB: 12,
    });
    expect(mustFindSku("Standard_NV36ads_A10_v5").gpuFraction).toBe(1);
  });

  it("gives every size the compute capability of its GPU model, one figure per model", () => {
    const byModel = new Map<string, Set<number | undefined>>();
    for (const s of loadCatalog().skus) {
      expect(s.computeCapability, s.name).toBeGreaterThanOrEqual(7);
      byModel.set(s.gpuModel, (byModel.get(s.gpuModel) ?? new Set()).add(s.computeCapability));
    }
    for (const [model, figures] of byModel) expect(figures.size, model).toBe(1);
    expect(mustFindSku("Standard_NC6s_v3").computeCapability).toBe(7.0);
    expect(mustFindSku("Standard_NC4as_T4_v3").computeCapability).toBe(7.5);
    expect(mustFindSku("Standard_NC24ads_A100_v4").computeCapability).toBe(8.0);
  });

  it("dates every price and names its region", () => {
    for (const s of catalog.skus) {
      expect(s.priceAsOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(s.priceRegion).toMatch(/^[a-z0-9]+$/);
    }
  });

  it("is frozen, so sharing one copy is safe", () => {
    expect(Object.isFrozen(catalog.skus)).toBe(true);
    expect(Object.isFrozen(catalog.skus[0])).toBe(true);
    expect(loadCatalog()).toBe(catalog);
  });
});

describe("findSku", () => {
  it("ignores case, as node labels and ARM vary it", () => {
    expect(findSku("standard_nc24ads_a100_v4")?.name).toBe("Standard_NC24ads_A100_v4");
    expect(findSku("Standard_Nope")).toBeUndefined();
  });

  it("mustFindSku names the unknown SKU", () => {
    try {
      mustFindSku("Standard_Nope");
      expect.unreachable();
    } catch (e) {
      expect(isCatalogError(e) && e.code).toBe("UnknownSku");
      expect((e as Error).message).toMatch(/^unknown SKU "Standard_Nope"/);
    }
  });
});

describe("conversion to the planning problem's catalogue", () => {
  it("keeps exactly the problem's fields", () => {
    expect(toCatalogEntry(mustFindSku("Standard_NC24ads_A100_v4"))).toEqual({
      name: "Standard_NC24ads_A100_v4",
      gpus: 1,
      gpuMemoryGiB: 80,
      vcpus: 24,
      family: "standardNCADSA100v4Family",
      pricePerHour: 3.673,
    });
  });

  it("drops retired sizes unless asked, and sorts cheapest first", () => {
    const entries = toCatalogEntries();
    expect(entries.map((e) => e.name)).not.toContain("Standard_NC6s_v3");
    expect(toCatalogEntries(undefined, { includeRetired: true }).map((e) => e.name)).toContain(
      "Standard_NC6s_v3",
    );
    const prices = entries.map((e) => e.pricePerHour);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    expect(entries[0]!.name).toBe("Standard_NV6ads_A10_v5");
  });

  it("can leave out vGPU slices", () => {
    const names = toCatalogEntries(undefined, { includeFractional: false }).map((e) => e.name);
    expect(names).not.toContain("Standard_NV6ads_A10_v5");
    expect(names).toContain("Standard_NV36ads_A10_v5");
  });
});
