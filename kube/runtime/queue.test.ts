import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { WorkQueue } from "./queue.ts";

describe("WorkQueue", () => {
  it("queues a key once however often it is added", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add("ns/a");
    q.add("ns/a");
    q.add("ns/b");
    expect(q.length).toBe(2);
    expect(await q.get()).toBe("ns/a");
    expect(await q.get()).toBe("ns/b");
  });

  it("never hands a key to two workers; a key added in flight comes back after done()", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add("k");
    const first = await q.get();
    q.add("k");
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(first!);
    await Promise.resolve();
    expect(second).toBe("k");
  });

  it("backs off failed keys exponentially until forget()", () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, rateLimit: { baseDelayMs: 10, maxDelayMs: 50 } });
    q.addRateLimited("k");
    clock.step(9);
    expect(q.length).toBe(0);
    clock.step(1);
    expect(q.length).toBe(1);
    expect([2, 3, 4, 5].map((n) => q.backoffFor(n))).toEqual([20, 40, 50, 50]);
    q.forget("k");
    expect(q.retries("k")).toBe(0);
  });

  it("keeps the earliest of several delayed adds", () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter("k", 1000);
    q.addAfter("k", 100);
    q.addAfter("k", 5000);
    clock.step(100);
    expect(q.length).toBe(1);
    clock.step(10_000);
    expect(q.length).toBe(1);
  });

  it("releases waiting workers on shutdown", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
  });
});
