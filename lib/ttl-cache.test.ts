import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import { TtlCache } from "./ttl-cache.ts";

describe("TtlCache", () => {
  it("keeps a value for the time-to-live its loader's result names, on the injected clock", async () => {
    const clock = new FakeClock();
    const cache = new TtlCache<string, string>({ clock, maxEntries: 4 });
    let loads = 0;
    const load = async () => `v${++loads}`;
    const ttl = (v: string) => (v === "v1" ? 1_000 : 60_000);
    expect(await cache.get("a", load, ttl)).toBe("v1");
    clock.step(999);
    expect(await cache.get("a", load, ttl)).toBe("v1");
    clock.step(1);
    expect(await cache.get("a", load, ttl)).toBe("v2");
    expect(loads).toBe(2);
  });

  it("shares one load among concurrent callers and keeps nothing from a load that throws", async () => {
    const cache = new TtlCache<string, number>({ clock: new FakeClock(), maxEntries: 4 });
    let calls = 0;
    let release!: (v: number) => void;
    const slow = () => {
      calls++;
      return new Promise<number>((r) => (release = r));
    };
    const both = Promise.all([cache.get("k", slow, () => 1000), cache.get("k", slow, () => 1000)]);
    release(7);
    expect(await both).toEqual([7, 7]);
    expect(calls).toBe(1);
    await expect(
      cache.get(
        "x",
        () => Promise.reject(new Error("down")),
        () => 1000,
      ),
    ).rejects.toThrow("down");
    expect(
      await cache.get(
        "x",
        async () => 3,
        () => 1000,
      ),
    ).toBe(3);
  });

  it("drops the least recently used entry past its bound", async () => {
    const cache = new TtlCache<string, string>({ clock: new FakeClock(), maxEntries: 2 });
    const ttl = () => 1000;
    await cache.get("a", async () => "a", ttl);
    await cache.get("b", async () => "b", ttl);
    cache.peek("a");
    await cache.get("c", async () => "c", ttl);
    expect(cache.size).toBe(2);
    expect(cache.peek("b")).toBeUndefined();
    expect(cache.peek("a")).toBe("a");
  });
});
