import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";

describe("FakeClock", () => {
  it("fires timers in due order and only when stepped past them", () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.schedule(50, () => fired.push("b"));
    clock.schedule(10, () => fired.push("a"));
    const cancel = clock.schedule(20, () => fired.push("cancelled"));
    cancel();
    clock.step(9);
    expect(fired).toEqual([]);
    clock.step(41);
    expect(fired).toEqual(["a", "b"]);
    expect(clock.now()).toBe(1050);
    expect(clock.pending()).toBe(0);
  });

  it("runs a timer scheduled by another timer within the same step", () => {
    const clock = new FakeClock(0);
    const times: number[] = [];
    clock.schedule(10, () => {
      times.push(clock.now());
      clock.schedule(10, () => times.push(clock.now()));
    });
    clock.step(25);
    expect(times).toEqual([10, 20]);
  });

  it("sleep resolves on step and rejects on abort", async () => {
    const clock = new FakeClock(0);
    const slept = clock.sleep(100);
    clock.step(100);
    await expect(slept).resolves.toBeUndefined();

    const abort = new AbortController();
    const aborted = clock.sleep(100, abort.signal);
    abort.abort(new Error("stop"));
    await expect(aborted).rejects.toThrow("stop");
    expect(clock.pending()).toBe(0);
  });
});
