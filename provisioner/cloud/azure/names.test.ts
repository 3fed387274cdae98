import { describe, expect, it } from "vitest";
import {
  armZoneOf,
  maxVmNameLength,
  parseProviderId,
  providerIdFor,
  vmNameFor,
  zoneLabelOf,
} from "./names.ts";

describe("Azure names", () => {
  it("keeps a short Machine name as the VM name and hashes a long one deterministically", () => {
    expect(vmNameFor("phi-3-a1b2c3-9f0e-0")).toBe("phi-3-a1b2c3-9f0e-0");
    // KAITO's Machine and NodeClaim names: ws + 9 hex digits, no hyphen.
    expect(vmNameFor("ws0a1b2c3d4")).toBe("ws0a1b2c3d4");
    expect(vmNameFor("w")).toBe("w");
    const long = `${"a".repeat(70)}-0`;
    const name = vmNameFor(long);
    expect(name.length).toBeLessThanOrEqual(maxVmNameLength);
    expect(name).toBe(vmNameFor(long));
    expect(name).not.toBe(vmNameFor(`${"a".repeat(70)}-1`));
    expect(vmNameFor("ends-with.")).toMatch(/^ends-with-[0-9a-f]{10}$/);
  });

  it("round-trips the AKS providerID, with the resource group in lower case as Azure writes it", () => {
    const id = providerIdFor("sub", "RG", "vm-1");
    expect(id).toBe(
      "azure:///subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1",
    );
    expect(parseProviderId(id)).toEqual({ subscriptionId: "sub", resourceGroup: "rg", vmName: "vm-1" });
    expect(parseProviderId("kwok://node-1")).toBeUndefined();
    expect(parseProviderId(`${id}/extra`)).toBeUndefined();
  });

  it("converts between zone labels and ARM zones", () => {
    expect(armZoneOf("eastus-2")).toBe("2");
    expect(armZoneOf("3")).toBe("3");
    expect(armZoneOf("somewhere")).toBeUndefined();
    expect(zoneLabelOf("EastUS", "1")).toBe("eastus-1");
    expect(zoneLabelOf("eastus", undefined)).toBe("0");
  });
});
