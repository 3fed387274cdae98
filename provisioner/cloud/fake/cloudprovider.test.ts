import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import { instanceTypeLabel } from "../../../crds/index.ts";
import { machine } from "../../fixtures.ts";
import { CreateError, isInsufficientCapacity, isMachineNotFound } from "../errors.ts";
import { FakeCloudProvider } from "./cloudprovider.ts";
import { fakeInstanceType } from "./instancetype.ts";

describe("FakeCloudProvider", () => {
  it("creates one instance per Machine name however often create() is called", async () => {
    const cloud = new FakeCloudProvider({ clock: new FakeClock() });
    const m = machine();
    const first = await cloud.create(m);
    const again = await cloud.create(m);
    expect(again.providerID).toBe(first.providerID);
    expect(cloud.instances.size).toBe(1);
    expect(cloud.createCalls).toHaveLength(2);
    expect(first.capacity["nvidia.com/gpu"]).toBe("1");
    expect(first.labels[instanceTypeLabel]).toBe("Standard_NC24ads_A100_v4");
  });

  it("fails the next create once, caps launches, and knows only its instance types", async () => {
    const cloud = new FakeCloudProvider({ instanceTypes: [fakeInstanceType({ name: "small", gpus: 0 })] });
    cloud.nextCreateError = new CreateError("Throttled", "slow down");
    const m = machine({ sku: "small" });
    await expect(cloud.create(m)).rejects.toThrow("slow down");
    await cloud.create(m);
    await expect(cloud.create(machine({ sku: "huge" }))).rejects.toMatchObject({
      reason: "sku",
      sku: "huge",
    });
    cloud.allowedCreateCalls = 1;
    await expect(cloud.create(machine({ sku: "small" }))).rejects.toSatisfy(isInsufficientCapacity);
  });

  it("reports NotFound from the delete after the one that removed the instance", async () => {
    const cloud = new FakeCloudProvider();
    const m = machine();
    const instance = await cloud.create(m);
    await cloud.delete(m);
    await expect(cloud.delete(instance.providerID)).rejects.toSatisfy(isMachineNotFound);
    await expect(cloud.get(instance.providerID)).rejects.toSatisfy(isMachineNotFound);
    expect(await cloud.list()).toEqual([]);
  });
});
