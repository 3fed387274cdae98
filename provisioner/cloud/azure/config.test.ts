import { describe, expect, it } from "vitest";
import { isUserError } from "../../../lib/errors.ts";
import { azureSettingsFrom, missingJoinDataMessage, parseEndpoint, parseImage } from "./config.ts";

const subnet =
  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/nodes";
const env = {
  AZURE_SUBSCRIPTION_ID: "sub",
  AZURE_RESOURCE_GROUP: "rg",
  AZURE_LOCATION: "EastUS",
  AZURE_SUBNET_ID: subnet,
  AZURE_NODE_JOIN_DATA_FILE: "/etc/kaito/node-join/cloud-init",
};

describe("azure settings from flags and environment", () => {
  it("takes flags over the environment and defaults the image", () => {
    const s = azureSettingsFrom({ "azure-resource-group": "flag-rg", "leader-elect": true }, env);
    expect(s).toMatchObject({
      subscriptionId: "sub",
      resourceGroup: "flag-rg",
      location: "eastus",
      subnetId: subnet,
    });
    expect(s.image).toEqual({
      publisher: "Canonical",
      offer: "ubuntu-24_04-lts",
      sku: "server",
      version: "latest",
    });
  });

  it("names the missing flag and its variable in one sentence", () => {
    const e = (() => {
      try {
        azureSettingsFrom({}, { ...env, AZURE_RESOURCE_GROUP: undefined });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toSatisfy(isUserError);
    expect((e as Error).message).toBe(
      "--cloud azure needs --azure-resource-group (or the AZURE_RESOURCE_GROUP environment variable).",
    );
    expect(() => azureSettingsFrom({ "azure-location": "east us" }, env)).toThrow(/Azure region name/);
    expect(() => azureSettingsFrom({ "azure-subnet-id": "nodes" }, env)).toThrow(/subnet's ARM id/);
  });

  it("refuses to start without join data, in one sentence that points AKS users elsewhere", () => {
    const e = (() => {
      try {
        azureSettingsFrom({}, { ...env, AZURE_NODE_JOIN_DATA_FILE: undefined });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toSatisfy(isUserError);
    expect((e as Error).message).toBe(missingJoinDataMessage);
    expect(missingJoinDataMessage).toBe(
      "--cloud azure creates plain VMs that join the cluster only through their cloud-init, so it needs join data (kubeadm join with a bootstrap token) in --azure-node-join-data-file (or AZURE_NODE_JOIN_DATA_FILE, or the data itself in AZURE_NODE_JOIN_DATA); on AKS use --node-provisioner karpenter or azure-gpu-provisioner instead.",
    );
    expect(missingJoinDataMessage.match(/\. /g)).toBeNull();
  });

  it("takes the join data from a file (flag over variable) or from AZURE_NODE_JOIN_DATA, never both", async () => {
    expect(azureSettingsFrom({}, env).joinData.origin).toBe("file /etc/kaito/node-join/cloud-init");
    expect(azureSettingsFrom({ "azure-node-join-data-file": "/run/join" }, env).joinData.origin).toBe(
      "file /run/join",
    );
    const inline = azureSettingsFrom(
      {},
      { ...env, AZURE_NODE_JOIN_DATA_FILE: undefined, AZURE_NODE_JOIN_DATA: "#cloud-config\n" },
    ).joinData;
    expect(inline.origin).toBe("the AZURE_NODE_JOIN_DATA environment variable");
    expect(Buffer.from(await inline.read()).toString()).toBe("#cloud-config\n");
    expect(() => azureSettingsFrom({}, { ...env, AZURE_NODE_JOIN_DATA: "#cloud-config\n" })).toThrow(
      /give the node join data once/,
    );
  });

  it("parses marketplace URNs and image ids", () => {
    expect(parseImage("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/aks")).toEqual({
      id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/images/aks",
    });
    expect(() => parseImage("Canonical:ubuntu")).toThrow(/publisher:offer:sku:version/);
  });

  it("takes the ARM endpoint from --azure-endpoint or AZURE_RESOURCE_MANAGER_ENDPOINT, https only", () => {
    expect(azureSettingsFrom({}, env).endpoint).toBeUndefined();
    expect(
      azureSettingsFrom({}, { ...env, AZURE_RESOURCE_MANAGER_ENDPOINT: "https://127.0.0.1:8443/" }).endpoint,
    ).toBe("https://127.0.0.1:8443");
    expect(
      azureSettingsFrom(
        { "azure-endpoint": "https://arm.example.test/proxy/" },
        { ...env, AZURE_RESOURCE_MANAGER_ENDPOINT: "https://127.0.0.1:8443" },
      ).endpoint,
    ).toBe("https://arm.example.test/proxy");
    expect(() => parseEndpoint("http://127.0.0.1:8080")).toThrow(/must use https/);
    expect(() => parseEndpoint("management.azure.com")).toThrow(/must be a URL/);
    expect(() => parseEndpoint("https://arm.example.test/?x=1")).toThrow(/without credentials, query/);
  });

  it("never repeats a password given in the endpoint", () => {
    for (const bad of ["http://user:s3cret@arm.example.test", "https://user:s3cret@arm.example.test"]) {
      let message = "";
      try {
        parseEndpoint(bad);
      } catch (e) {
        expect(e).toSatisfy(isUserError);
        message = (e as Error).message;
      }
      expect(message).toMatch(/--azure-endpoint/);
      expect(message).not.toContain("s3cret");
    }
  });
});
