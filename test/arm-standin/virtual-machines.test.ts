import { request } from "node:https";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { standinComputeClient } from "./client.ts";
import { startArmStandin, type ArmStandin } from "./server.ts";
import type { VmBoot } from "./lro.ts";
import type { WireVm } from "./state.ts";

// The VM routes and their long-running operations, seen through the real SDK and the request log.

let standin: ArmStandin;
const created: string[] = [];
const deleted: string[] = [];
const booted: VmBoot[] = [];

beforeEach(async () => {
  created.length = 0;
  deleted.length = 0;
  booted.length = 0;
  standin = await startArmStandin({
    lroPolls: 2,
    hooks: {
      onVmCreated: (vm: WireVm, boot: VmBoot) => {
        created.push(vm.name);
        booted.push(boot);
      },
      onVmDeleted: (vm: WireVm) => void deleted.push(vm.name),
    },
  });
});
afterEach(async () => {
  await standin.close();
});

const vm = {
  location: "eastus",
  tags: { "kaito.sh/machine": "m" },
  hardwareProfile: { vmSize: "Standard_NC6s_v3" },
};

describe("the stand-in's virtual machines", () => {
  it("answers a create 201 + Azure-AsyncOperation and finishes it after the polls, once", async () => {
    const client = standinComputeClient(standin);
    const poller = await client.virtualMachines.beginCreateOrUpdate("rg", "vm-1", vm, {
      updateIntervalInMs: 5,
    });
    expect(standin.requests.at(-1)).toMatchObject({
      operation: "virtualMachines.createOrUpdate",
      status: 201,
    });
    expect((await client.virtualMachines.get("rg", "vm-1")).provisioningState).toBe("Creating");
    // A second PUT while creating joins the running operation.
    const again = await client.virtualMachines.createOrUpdate("rg", "vm-1", vm, { updateIntervalInMs: 5 });
    await poller.pollUntilDone();
    expect(again.provisioningState).toBe("Succeeded");
    expect(standin.state.operations.size).toBe(1);
    await standin.hooks.settled();
    expect(created).toEqual(["vm-1"]);
  });

  it("deletes with 202 and an operation, answers 204 for a missing VM, and 404s a GET", async () => {
    const client = standinComputeClient(standin);
    await client.virtualMachines.createOrUpdate("rg", "vm-2", vm, { updateIntervalInMs: 5 });
    await client.virtualMachines.delete("rg", "vm-2", { updateIntervalInMs: 5 });
    await client.virtualMachines.delete("rg", "vm-2", { updateIntervalInMs: 5 });
    expect(
      standin.requests.filter((r) => r.operation === "virtualMachines.delete").map((r) => r.status),
    ).toEqual([202, 204]);
    await expect(client.virtualMachines.get("rg", "vm-2")).rejects.toMatchObject({
      statusCode: 404,
      code: "ResourceNotFound",
    });
    await standin.hooks.settled();
    expect(deleted).toEqual(["vm-2"]);
  });
});

describe("the stand-in's customData", () => {
  const withData = (customData: string) => ({
    ...vm,
    osProfile: { computerName: "vm-c", adminUsername: "azureuser", customData },
  });
  const userData = Buffer.from("#cloud-config\nruncmd: [kubeadm join]\n").toString("base64");

  it("hands it to the VM at boot, and never returns it", async () => {
    const client = standinComputeClient(standin);
    const made = await client.virtualMachines.createOrUpdate("rg", "vm-c", withData(userData), {
      updateIntervalInMs: 5,
    });
    expect(made.osProfile).toEqual({ computerName: "vm-c", adminUsername: "azureuser" });
    expect((await client.virtualMachines.get("rg", "vm-c")).osProfile?.customData).toBeUndefined();
    const listed = [];
    for await (const v of client.virtualMachines.list("rg")) listed.push(v);
    expect(JSON.stringify(listed)).not.toContain(userData);
    await standin.hooks.settled();
    expect(booted).toEqual([{ customData: userData }]);
  });

  it("refuses customData that is not base64 or longer than ARM takes", async () => {
    const client = standinComputeClient(standin);
    for (const bad of ["#cloud-config", "abc", "A".repeat(87_384)]) {
      await expect(
        client.virtualMachines.createOrUpdate("rg", "vm-bad", withData(bad), { updateIntervalInMs: 5 }),
      ).rejects.toMatchObject({
        statusCode: 400,
        code: "InvalidParameter",
        message:
          "Custom data in OSProfile must be in Base64 encoding and with a maximum length of 87380 characters.",
      });
    }
    expect(standin.state.vms.size).toBe(0);
    // The longest ARM takes: 65535 bytes.
    const longest = Buffer.alloc(65_535, "a").toString("base64");
    expect(longest).toHaveLength(87_380);
    await client.virtualMachines.createOrUpdate("rg", "vm-big", withData(longest), { updateIntervalInMs: 5 });
  });

  it("keeps it when a later PUT leaves it out, and refuses a change", async () => {
    const client = standinComputeClient(standin);
    await client.virtualMachines.createOrUpdate("rg", "vm-c", withData(userData), { updateIntervalInMs: 5 });
    await client.virtualMachines.createOrUpdate("rg", "vm-c", withData(userData), { updateIntervalInMs: 5 });
    await client.virtualMachines.createOrUpdate(
      "rg",
      "vm-c",
      { ...vm, osProfile: { computerName: "vm-c" } },
      { updateIntervalInMs: 5 },
    );
    await expect(
      client.virtualMachines.createOrUpdate(
        "rg",
        "vm-c",
        withData(Buffer.from("#!/bin/sh\n").toString("base64")),
        {
          updateIntervalInMs: 5,
        },
      ),
    ).rejects.toMatchObject({ statusCode: 409, code: "PropertyChangeNotAllowed" });
    expect(standin.state.customData.get("rg/vm-c")).toBe(userData);
    await client.virtualMachines.delete("rg", "vm-c", { updateIntervalInMs: 5 });
    expect(standin.state.customData.size).toBe(0);
  });
});

describe("the stand-in's long-running operations, configured", () => {
  it("asks a polls function once per operation and sends Retry-After while one runs", async () => {
    const lengths = [0, 2];
    const own = await startArmStandin({ lroPolls: () => lengths.shift() ?? 9, lroRetryAfterSeconds: 1 });
    try {
      const call = (method: string, url: string, body?: unknown) =>
        new Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }>(
          (resolve, reject) => {
            const req = request(
              url,
              {
                method,
                ca: own.ca,
                headers: { authorization: "Bearer t", "content-type": "application/json" },
              },
              (res) => {
                let text = "";
                res.on("data", (c: Buffer) => (text += c.toString()));
                res.on("end", () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    headers: res.headers,
                    body: text ? JSON.parse(text) : {},
                  }),
                );
              },
            );
            req.on("error", reject);
            req.end(body === undefined ? undefined : JSON.stringify(body));
          },
        );
      const vmUrl = (name: string) =>
        `${own.endpoint}/subscriptions/${own.subscriptionId}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/${name}?api-version=2024-07-01`;
      const put = { location: "eastus", properties: { hardwareProfile: { vmSize: "Standard_NC6s_v3" } } };
      const first = await call("PUT", vmUrl("a"), put);
      const second = await call("PUT", vmUrl("b"), put);
      expect([first.status, first.headers["retry-after"]]).toEqual([201, "1"]);
      expect([...own.state.operations.values()].map((o) => o.pollsLeft)).toEqual([0, 2]);
      const poll = await call("GET", String(second.headers["azure-asyncoperation"]));
      expect([poll.body.status, poll.headers["retry-after"]]).toEqual(["InProgress", "1"]);
      const done = await call("GET", String(first.headers["azure-asyncoperation"]));
      expect([done.body.status, done.headers["retry-after"]]).toEqual(["Succeeded", undefined]);
    } finally {
      await own.close();
    }
  });
});
