import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { BatchWindows } from "./window.ts";

function windows(idleMs = 1_000, maxMs = 10_000) {
  const clock = new FakeClock(0);
  const closed: { key: string; items: string[]; at: number }[] = [];
  const w = new BatchWindows<string>({ clock, idleMs, maxMs }, (key, items) => {
    closed.push({ key, items, at: clock.now() });
  });
  return { clock, closed, w };
}

describe("BatchWindows", () => {
  it("closes a window once nothing has joined it for the idle time", () => {
    const { clock, closed, w } = windows();
    expect(w.add("team-a", "ws-1", "one")).toBe(1_000);
    clock.step(600);
    expect(w.add("team-a", "ws-2", "two")).toBe(1_600);
    clock.step(999);
    expect(closed).toEqual([]);
    clock.step(1);
    expect(closed).toEqual([{ key: "team-a", items: ["one", "two"], at: 1_600 }]);
    expect(w.pending()).toBe(0);
  });

  it("closes at the latest its maximum after it opened, however steady the arrivals", () => {
    const { clock, closed, w } = windows(1_000, 3_000);
    for (let t = 0; t < 5_000; t += 500) {
      w.add("team-a", `ws-${t}`, String(t));
      clock.step(500);
    }
    clock.step(1_000);
    expect(closed[0]).toEqual({
      key: "team-a",
      items: ["0", "500", "1000", "1500", "2000", "2500"],
      at: 3_000,
    });
    // The next window opened with the first arrival after the close, and closed idle.
    expect(closed[1]).toEqual({ key: "team-a", items: ["3000", "3500", "4000", "4500"], at: 5_500 });
  });

  it("keeps labels apart, replaces an item added again, and forgets a removed one", () => {
    const { clock, closed, w } = windows();
    w.add("team-a", "ws-1", "first");
    w.add("team-b", "ws-2", "b");
    w.add("team-a", "ws-1", "again");
    w.add("team-a", "ws-3", "gone");
    w.remove("team-a", "ws-3");
    expect(w.closesAt("team-a", "ws-1")).toBe(1_000);
    expect(w.closesAt("team-a", "ws-3")).toBeUndefined();
    clock.step(1_000);
    expect(closed.map((c) => [c.key, c.items]).sort()).toEqual([
      ["team-a", ["again"]],
      ["team-b", ["b"]],
    ]);
  });

  it("drops a window whose every item was removed", () => {
    const { clock, closed, w } = windows();
    w.add("team-a", "ws-1", "x");
    w.remove("team-a", "ws-1");
    expect(w.pending()).toBe(0);
    clock.step(20_000);
    expect(closed).toEqual([]);
    expect(clock.pending()).toBe(0);
  });

  it("does not hold a window open for an item added again while it waits (a requeue is no arrival)", () => {
    const { clock, closed, w } = windows();
    w.add("team-a", "ws-1", "first");
    for (let t = 0; t < 900; t += 300) {
      clock.step(300);
      expect(w.add("team-a", "ws-1", `again-${t}`)).toBe(1_000);
    }
    clock.step(100);
    expect(closed).toEqual([{ key: "team-a", items: ["again-600"], at: 1_000 }]);
  });
});
