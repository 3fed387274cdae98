import { describe, expect, it } from "vitest";
import { machine, node } from "../fixtures.ts";
import { requiredLabels } from "../requirements.ts";
import { providerIdKey } from "../cloud/providerid.ts";
import { machineKeysForNode, providerIdIndexOf, registeredLabel, syncedNode } from "./nodes.ts";

describe("node sync", () => {
  it("adds the Machine's labels, taints and ownership once, then has nothing to change", () => {
    const m = machine({ metadata: { name: "m1", uid: "uid-1" } });
    const n = node({ name: "n1", spec: { taints: [{ key: "other", effect: "NoExecute" }] } });
    const synced = syncedNode(n, m)!;
    expect(synced.metadata?.labels).toMatchObject({
      apps: "phi-3",
      [registeredLabel]: "true",
      "kaito.sh/workspace": "phi-3",
    });
    expect(synced.spec?.taints).toEqual([
      { key: "other", effect: "NoExecute" },
      { key: "sku", value: "gpu", effect: "NoSchedule" },
    ]);
    expect(synced.metadata?.ownerReferences).toEqual([
      { apiVersion: "karpenter.sh/v1alpha5", kind: "Machine", name: "m1", uid: "uid-1" },
    ]);
    expect(syncedNode(synced, m)).toBeUndefined();
    expect(n.metadata?.labels).not.toHaveProperty(registeredLabel);
  });

  it("does not put startup taints back that a daemon removed", () => {
    const m = machine({ spec: { startupTaints: [{ key: "driver", effect: "NoSchedule" }], taints: [] } });
    const n = node({ metadata: { name: "n", labels: { ...requiredLabels(m), [registeredLabel]: "true" } } });
    expect(syncedNode(n, { ...m, metadata: { ...m.metadata, uid: undefined } })).toBeUndefined();
  });

  it("maps a node to its owning Machine and to the Machine holding its providerID", () => {
    const n = node({ name: "n", providerID: "kwok://n" });
    n.metadata!.ownerReferences = [
      { apiVersion: "karpenter.sh/v1alpha5", kind: "Machine", name: "owner", uid: "u" },
    ];
    const index = { keys: (v: string) => (v === "kwok://n" ? ["holder"] : []) };
    expect(machineKeysForNode(n, index).sort()).toEqual(["holder", "owner"]);
  });

  it("finds the Machine of an Azure node that spells the resource group in lower case", () => {
    const id = (rg: string) =>
      `azure:///subscriptions/s/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachines/ws1`;
    const n = node({ name: "ws1", providerID: id("kaito-rg") });
    // The index holds the Machine's providerID as providerIdKey() gives it.
    const index = { keys: (v: string) => (v === providerIdKey(id("Kaito-RG")) ? ["ws1"] : []) };
    expect(machineKeysForNode(n, index)).toEqual(["ws1"]);
    expect(providerIdIndexOf(n)).toEqual([providerIdKey(id("Kaito-RG"))]);
  });
});
