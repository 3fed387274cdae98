import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { jsonLogger } from "../../lib/log.ts";
import { FakeCloudProvider, fakeInstanceType } from "./fake/index.ts";
import { OfferingCache } from "./offering.ts";

const minute = 60_000;

function setup(o: { ttlMs?: number; firstReadingWaitMs?: number } = {}) {
  const clock = new FakeClock();
  const cloud = new FakeCloudProvider({
    clock,
    instanceTypes: [fakeInstanceType({ name: "Standard_A" })],
    quota: { familyA: 48 },
  });
  const lines: { level: string; msg: string }[] = [];
  const log = jsonLogger({ level: "info", write: (l) => lines.push(JSON.parse(l)), now: () => clock.now() });
  const cache = new OfferingCache({ cloud, clock, log, ...o });
  return { clock, cloud, cache, lines };
}

/** A gate the fake cloud's offering() waits on until the test opens it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("OfferingCache", () => {
  it("reads once, answers from memory until the TTL has passed, then reads again in the background", async () => {
    const { clock, cloud, cache } = setup();
    const first = await cache.current();
    expect(first).toMatchObject({ region: "fake", quota: { familyA: 48 }, readAt: clock.now() });
    expect(first?.instanceTypes.map((t) => t.name)).toEqual(["Standard_A"]);

    cloud.quota = { familyA: 0 };
    clock.step(4 * minute);
    expect((await cache.current())?.quota).toEqual({ familyA: 48 });
    expect(cloud.offeringCalls).toBe(1);

    clock.step(minute);
    // Stale: the caller gets the old reading at once while the new one runs.
    expect((await cache.current())?.quota).toEqual({ familyA: 48 });
    await cache.settled();
    expect(cloud.offeringCalls).toBe(2);
    expect((await cache.current())?.quota).toEqual({ familyA: 0 });
  });

  it("reads again early after a failed launch, but not more often than the minimum interval", async () => {
    const { clock, cloud, cache } = setup();
    await cache.current();
    clock.step(minute);
    cloud.quota = { familyA: 0 };
    cache.invalidate();
    await cache.settled();
    expect(cloud.offeringCalls).toBe(2);
    expect((await cache.current())?.quota).toEqual({ familyA: 0 });

    // A second failure right after the reading it caused waits out the minimum interval.
    clock.step(2_000);
    cache.invalidate();
    await cache.settled();
    expect(cloud.offeringCalls).toBe(2);
    clock.step(8_000);
    await cache.current();
    await cache.settled();
    expect(cloud.offeringCalls).toBe(3);
  });

  it("treats a failed launch during a reading as news the reading may have missed", async () => {
    const { clock, cloud, cache } = setup();
    await cache.current();
    clock.step(5 * minute);
    const held = gate();
    cloud.offeringGate = held.promise;
    await cache.current();
    cache.invalidate();
    cloud.offeringGate = undefined;
    held.open();
    await cache.settled();
    expect(cloud.offeringCalls).toBe(2);
    clock.step(10_000);
    await cache.current();
    await cache.settled();
    expect(cloud.offeringCalls).toBe(3);
  });

  it("shares one reading among every caller that arrives while it runs", async () => {
    const { cloud, cache } = setup();
    const held = gate();
    cloud.offeringGate = held.promise;
    const callers = [cache.current(), cache.current(), cache.current()];
    cache.invalidate();
    void cache.refresh();
    held.open();
    const answers = await Promise.all(callers);
    expect(cloud.offeringCalls).toBe(1);
    expect(answers.every((a) => a === answers[0] && a !== undefined)).toBe(true);
  });

  it("keeps the last good reading when a reading fails, says so once, and retries after a minute", async () => {
    const { clock, cloud, cache, lines } = setup();
    await cache.current();
    clock.step(5 * minute);
    cloud.nextOfferingError = new Error("ARM said 503");
    await cache.current();
    await cache.settled();
    expect(cloud.offeringCalls).toBe(2);
    expect((await cache.current())?.quota).toEqual({ familyA: 48 });

    clock.step(30_000);
    await cache.current();
    expect(cloud.offeringCalls).toBe(2);
    clock.step(30_000);
    cloud.nextOfferingError = new Error("ARM said 503 again");
    await cache.current();
    await cache.settled();
    expect(cloud.offeringCalls).toBe(3);
    const warnings = lines.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/planning with the reading from 300 s ago/);

    clock.step(minute);
    cloud.quota = { familyA: 24 };
    await cache.current();
    await cache.settled();
    expect((await cache.current())?.quota).toEqual({ familyA: 24 });
    expect(lines.filter((l) => l.level === "info").map((l) => l.msg)).toEqual([
      "reading what the cloud offers works again",
    ]);
  });

  it("answers nothing (plan with the whole catalogue) when the first reading fails", async () => {
    const { cloud, cache, lines } = setup();
    cloud.nextOfferingError = new Error("no credentials");
    expect(await cache.current()).toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([
      "could not read which sizes and quota the cloud offers; planning with the whole catalogue and no quota until a reading succeeds",
    ]);
  });

  it("waits for the first reading at most firstReadingWaitMs, never for later ones", async () => {
    const { clock, cloud, cache } = setup({ firstReadingWaitMs: 5_000 });
    const held = gate();
    cloud.offeringGate = held.promise;
    let answered = false;
    const waiting = cache.current().then((a) => {
      answered = true;
      return a;
    });
    await Promise.resolve();
    clock.step(4_999);
    await Promise.resolve();
    expect(answered).toBe(false);
    clock.step(1);
    expect(await waiting).toBeUndefined();
    expect(clock.pending()).toBe(0);
    held.open();
    await cache.settled();
    expect(await cache.current()).toBeDefined();
  });

  it("stops reading once closed, and cancels the reading in flight", async () => {
    const { clock, cloud, cache, lines } = setup();
    const held = gate();
    cloud.offeringGate = held.promise;
    const stop = new AbortController();
    const running = cache.start(stop.signal);
    expect(cloud.offeringCalls).toBe(1);
    stop.abort();
    // The gate never opens: start() returns only because the reading was cancelled.
    await running;
    expect(await cache.current()).toBeUndefined();
    clock.step(10 * minute);
    cache.invalidate();
    expect(await cache.current()).toBeUndefined();
    expect(cloud.offeringCalls).toBe(1);
    expect(lines).toEqual([]);
  });
});
