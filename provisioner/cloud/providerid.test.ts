import { describe, expect, it } from "vitest";
import { providerIdKey, sameProviderID } from "./providerid.ts";

const vm = (rg: string, name = "ws0a1b2c3d4") =>
  `azure:///subscriptions/0000/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/${name}`;

describe("providerID comparison", () => {
  it("matches an Azure providerID whose resource group the node spells in lower case", () => {
    expect(sameProviderID(vm("Kaito-RG"), vm("kaito-rg"))).toBe(true);
    expect(providerIdKey(vm("Kaito-RG"))).toBe(vm("kaito-rg"));
    expect(providerIdKey(vm("Kaito-RG").replace("resourceGroups", "resourcegroups"))).toBe(vm("kaito-rg"));
  });

  it("keeps the rest of an Azure providerID, and every other cloud's, exactly as written", () => {
    expect(sameProviderID(vm("rg", "VM1"), vm("rg", "vm1"))).toBe(false);
    expect(sameProviderID(vm("rg-a"), vm("rg-b"))).toBe(false);
    expect(providerIdKey("kwok://Node-1")).toBe("kwok://Node-1");
    expect(sameProviderID("kwok://Node-1", "kwok://node-1")).toBe(false);
    expect(sameProviderID(undefined, undefined)).toBe(false);
    expect(sameProviderID("", "")).toBe(false);
  });
});
