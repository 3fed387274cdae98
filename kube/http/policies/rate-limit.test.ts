import { describe, expect, it, vi } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import { TokenBucket } from "../token-bucket.ts";
import { rateLimitPolicy } from "./rate-limit.ts";
import { flush, testRequest, testResponse } from "./testing.ts";

describe("rateLimitPolicy", () => {
  it("lets a burst through at once, then paces calls at the QPS in arrival order", async () => {
    const clock = new FakeClock();
    const waits: number[] = [];
    const order: number[] = [];
    const policy = rateLimitPolicy(new TokenBucket({ qps: 10, burst: 3, clock }), (i) =>
      waits.push(i.waitMs),
    );
    const calls = Array.from({ length: 5 }, (_, i) =>
      policy.sendRequest(
        testRequest(),
        vi.fn(async () => {
          order.push(i);
          return testResponse(200);
        }),
      ),
    );
    await flush();
    expect(order).toEqual([0, 1, 2]);
    clock.step(99);
    await flush();
    expect(order).toEqual([0, 1, 2]);
    clock.step(1);
    await flush();
    expect(order).toEqual([0, 1, 2, 3]);
    clock.step(100);
    await Promise.all(calls);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(waits).toEqual([0, 0, 0, 100, 200]);
  });

  it("refills at the QPS up to the burst after a quiet spell", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 2, burst: 2, clock });
    expect([await bucket.take(), await bucket.take()]).toEqual([0, 0]);
    clock.step(10_000);
    expect([await bucket.take(), await bucket.take()]).toEqual([0, 0]);
    const third = bucket.take();
    clock.step(500);
    expect(await third).toBe(500);
  });

  it("gives the token back when a waiting call is aborted", async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, clock });
    const policy = rateLimitPolicy(bucket);
    const next = vi.fn(async () => testResponse(200));
    await policy.sendRequest(testRequest(), next);
    const caller = new AbortController();
    const waiting = policy.sendRequest(testRequest({ signal: caller.signal }), next).catch((e: unknown) => e);
    caller.abort(new Error("gone"));
    expect(((await waiting) as Error).message).toBe("gone");
    expect(next).toHaveBeenCalledTimes(1);
    // The aborted call's reservation is returned: the next caller waits one interval, not two.
    const after = bucket.take();
    clock.step(1_000);
    expect(await after).toBe(1_000);
  });

  it("refuses a limit that would never let anything through", () => {
    const clock = new FakeClock();
    expect(() => new TokenBucket({ qps: 0, burst: 10, clock })).toThrow(/qps > 0/);
    expect(() => new TokenBucket({ qps: 5, burst: 0, clock })).toThrow(/burst >= 1/);
  });
});
