import { describe, expect, it, vi } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import { isNotLeader } from "../../errors.ts";
import { LeaseFence } from "../../runtime/fence.ts";
import { fencePolicy } from "./fence.ts";
import { testRequest, testResponse } from "./testing.ts";

describe("fencePolicy with a LeaseFence", () => {
  const setup = () => {
    const clock = new FakeClock();
    const fence = new LeaseFence(clock, 10_000);
    const next = vi.fn(async () => testResponse(200));
    return { clock, fence, next, policy: fencePolicy(fence) };
  };

  it("lets a candidate that never led write (what runs on every replica must)", async () => {
    const { next, policy } = setup();
    await policy.sendRequest(testRequest({ method: "POST" }), next);
    expect(next).toHaveBeenCalledTimes(1);
  });

  it("lets the leader write until the renew deadline after its last renewal sent, then never again", async () => {
    const { clock, fence, next, policy } = setup();
    fence.renewed(clock.now());
    clock.step(6_000);
    fence.renewed(clock.now() - 1_000); // a renewal sent 1 s ago succeeded: valid until 15 s
    clock.step(8_999);
    await policy.sendRequest(testRequest({ method: "PATCH" }), next);
    expect(next).toHaveBeenCalledTimes(1);
    clock.step(1);
    const refused = await policy.sendRequest(testRequest({ method: "PATCH" }), next).catch((e: unknown) => e);
    expect(isNotLeader(refused)).toBe(true);
    expect((refused as Error).message).toMatch(/no longer the leader.*renew deadline/);
    // A late renewal cannot bring a deposed manager back.
    fence.renewed(clock.now());
    await expect(policy.sendRequest(testRequest({ method: "DELETE" }), next)).rejects.toThrow(/no longer/);
    expect(next).toHaveBeenCalledTimes(1);
  });

  it("checks the clock itself, so a write after a freeze is refused before any timer has run", async () => {
    const { clock, fence, next, policy } = setup();
    fence.renewed(clock.now());
    // No timer fires: as after SIGCONT, when Node runs I/O callbacks before overdue timers.
    (clock as unknown as { current: number }).current += 60_000;
    await expect(policy.sendRequest(testRequest({ method: "PUT" }), next)).rejects.toThrow(/no longer/);
    expect(next).not.toHaveBeenCalled();
  });

  it("lets reads through whatever the fence says", async () => {
    const { fence, next, policy } = setup();
    fence.depose("test");
    await policy.sendRequest(testRequest({ method: "GET" }), next);
    await policy.sendRequest(testRequest({ method: "GET", stream: true }), next);
    expect(next).toHaveBeenCalledTimes(2);
  });
});
