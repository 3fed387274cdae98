import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { standinComputeClient } from "../../test/arm-standin/client.ts";
import {
  notAvailableInLocation,
  notAvailableInZones,
  usage,
  vmSku,
} from "../../test/arm-standin/fixtures.ts";
import { serverError, throttle } from "../../test/arm-standin/faults/index.ts";
import { startArmStandin, type ArmStandin } from "../../test/arm-standin/server.ts";
import { loadCatalog, mustFindSku, toCatalogEntries } from "./catalog.ts";
import { fetchRegionInventory, refreshCatalog } from "./refresh.ts";
import { isRefreshError, type RefreshErrorCode } from "./refresh-errors.ts";
import type { WireResourceSku } from "../../test/arm-standin/state.ts";

// The refresher through the real @azure/arm-compute client against the ARM stand-in.

let standin: ArmStandin;

/** The stand-in's ResourceSku for a catalogue SKU, offered in the given locations. */
function offered(
  name: string,
  locations: Record<string, string[]>,
  restrictions: WireResourceSku["restrictions"] = [],
) {
  const s = mustFindSku(name);
  return vmSku({
    name: s.name,
    family: s.family,
    vcpus: s.vcpus,
    memoryGiB: s.memoryGiB,
    gpus: s.gpus,
    locations,
    restrictions,
  });
}

beforeEach(async () => {
  standin = await startArmStandin({ pageSize: 3 });
  standin.state.skus = [
    offered("Standard_NC4as_T4_v3", { eastus: ["1", "2", "3"] }),
    offered("Standard_NC8as_T4_v3", { eastus: ["1", "2", "3"] }),
    offered("Standard_NC24ads_A100_v4", { eastus: ["1", "2", "3"] }, [notAvailableInZones("eastus", ["3"])]),
    offered("Standard_NC48ads_A100_v4", { eastus: ["1", "2", "3"] }),
    offered("Standard_ND96isr_H100_v5", { eastus: ["1", "2"] }, [notAvailableInLocation("eastus")]),
    offered("Standard_NC40ads_H100_v5", { westeurope: ["1"] }),
    {
      resourceType: "disks",
      name: "Premium_LRS",
      locations: ["eastus"],
      locationInfo: [{ location: "eastus", zones: ["1"] }],
      restrictions: [],
    },
  ];
  standin.state.setUsages("eastus", [
    usage("availabilitySets", 0, 2500, "Availability Sets"),
    usage("cores", 28, 350, "Total Regional vCPUs"),
    usage("standardNCASv3_T4Family", 8, 64, "Standard NCASv3_T4 Family vCPUs"),
    usage("standardNCADSA100v4Family", 24, 96, "Standard NCADS_A100_v4 Family vCPUs"),
    usage("standardNDSH100v5Family", 0, 0, "Standard NDSH100v5 Family vCPUs"),
  ]);
});

afterEach(async () => {
  await standin.close();
});

describe("refreshCatalog against the ARM stand-in", () => {
  it("joins ResourceSkus and Usages for the region, across pages", async () => {
    const refreshed = await refreshCatalog({ client: standinComputeClient(standin), region: "eastus" });

    expect(refreshed.skus.map((s) => [s.name, s.zones])).toEqual([
      ["Standard_NC4as_T4_v3", ["1", "2", "3"]],
      ["Standard_NC8as_T4_v3", ["1", "2", "3"]],
      ["Standard_NC24ads_A100_v4", ["1", "2"]],
      ["Standard_NC48ads_A100_v4", ["1", "2", "3"]],
    ]);
    expect(refreshed.unavailable).toContainEqual({
      name: "Standard_ND96isr_H100_v5",
      reason: "NotAvailableForSubscription",
    });
    expect(refreshed.unavailable).toContainEqual({ name: "Standard_NC40ads_H100_v5", reason: "NotOffered" });
    expect(refreshed.quota).toEqual({ standardNCASv3_T4Family: 56, standardNCADSA100v4Family: 72 });
    expect(refreshed.regionalVcpuHeadroom).toBe(322);
    expect(refreshed.drift).toEqual([]);
    // Six resource SKUs list eastus (at three a page: two requests); five usages take two as well.
    expect(standin.count("resourceSkus.list")).toBe(2);
    expect(standin.count("usages.list")).toBe(2);
    expect(standin.requests.find((r) => r.operation === "resourceSkus.list")?.query["$filter"]).toBe(
      "location eq 'eastus'",
    );

    // The refreshed catalogue feeds the planning problem like the snapshot does.
    expect(toCatalogEntries(refreshed).map((e) => e.name)).toEqual([
      "Standard_NC4as_T4_v3",
      "Standard_NC8as_T4_v3",
      "Standard_NC24ads_A100_v4",
      "Standard_NC48ads_A100_v4",
    ]);
  });

  it("rides out throttling and transient failures through the SDK's retry policy", async () => {
    standin.faults.add(throttle({ times: 1, retryAfterSeconds: 0, operation: "resourceSkus.list" }));
    standin.faults.add(serverError({ times: 1, status: 500, operation: "usages.list" }));
    const client = standinComputeClient(standin, {
      retryOptions: { retryDelayInMs: 10, maxRetryDelayInMs: 20 },
    });

    const refreshed = await refreshCatalog({ client, region: "eastus", catalog: loadCatalog() });
    expect(refreshed.skus).toHaveLength(4);
    expect(standin.faults.pending()).toBe(0);
  });

  async function refreshError(
    run: () => Promise<unknown>,
  ): Promise<{ code: RefreshErrorCode; message: string; statusCode?: number; armCode?: string }> {
    try {
      await run();
    } catch (e) {
      if (isRefreshError(e)) return e;
      throw e;
    }
    throw new Error("expected a RefreshError");
  }

  it("reports lasting throttling as Throttled", async () => {
    standin.faults.add(throttle({ times: 5, retryAfterSeconds: 0, operation: "usages.list" }));
    const client = standinComputeClient(standin, { retryOptions: { maxRetries: 1 } });
    const e = await refreshError(() => fetchRegionInventory(client, "eastus"));
    expect(e).toMatchObject({ code: "Throttled", statusCode: 429, armCode: "TooManyRequests" });
    expect(e.message).toMatch(/^ARM kept throttling the Usages list/);
  });

  it("reports a refused token as Unauthorized", async () => {
    await standin.close();
    standin = await startArmStandin({ token: "the-right-one" });
    const e = await refreshError(() => fetchRegionInventory(standinComputeClient(standin), "eastus"));
    expect(e).toMatchObject({ code: "Unauthorized", statusCode: 401, armCode: "InvalidAuthenticationToken" });
  });

  it("reports other ARM errors with ARM's code", async () => {
    const e = await refreshError(() => fetchRegionInventory(standinComputeClient(standin), "westus"));
    expect(e).toMatchObject({
      code: "ArmRequestFailed",
      statusCode: 400,
      armCode: "LocationNotAvailableForResourceType",
    });
  });

  it("refuses a region that is not an ARM location name before calling ARM", async () => {
    const e = await refreshError(() =>
      fetchRegionInventory(standinComputeClient(standin), "east us' or 1 eq 1"),
    );
    expect(e.code).toBe("InvalidRegion");
    expect(standin.requests).toHaveLength(0);
  });
});
