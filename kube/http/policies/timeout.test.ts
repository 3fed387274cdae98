import { describe, expect, it, vi } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import { isRequestTimeout } from "../../errors.ts";
import type { KubeRequest } from "../pipeline.ts";
import { flush, hangingNext, testRequest, testResponse } from "./testing.ts";
import { timeoutPolicy } from "./timeout.ts";

describe("timeoutPolicy", () => {
  it("aborts a call the server does not answer at the default timeout, with a Timeout error", async () => {
    const clock = new FakeClock();
    const seen: KubeRequest[] = [];
    const policy = timeoutPolicy({ defaultTimeoutMs: 30_000, clock });
    const call = policy.sendRequest(testRequest(), hangingNext(seen));
    const outcome = call.then(
      () => "answered",
      (e: unknown) => e,
    );
    clock.step(29_999);
    await flush();
    expect(seen[0]!.signal!.aborted).toBe(false);
    clock.step(1);
    const error = await outcome;
    expect(isRequestTimeout(error)).toBe(true);
    expect((error as Error).message).toMatch(/did not answer within 30 s/);
    expect(seen[0]!.signal!.aborted).toBe(true);
  });

  it("uses a call's own timeout over the default, and none when it is 0", async () => {
    const clock = new FakeClock();
    const policy = timeoutPolicy({ defaultTimeoutMs: 30_000, clock });
    const short = policy.sendRequest(testRequest({ timeoutMs: 500 }), hangingNext()).catch((e: unknown) => e);
    clock.step(500);
    expect(isRequestTimeout(await short)).toBe(true);

    const seen: KubeRequest[] = [];
    void policy.sendRequest(testRequest({ timeoutMs: 0 }), hangingNext(seen));
    clock.step(10 * 60_000);
    await flush();
    expect(seen[0]!.signal).toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  it("passes the caller's abort through as the caller's reason, not as a timeout", async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    const policy = timeoutPolicy({ defaultTimeoutMs: 30_000, clock });
    const call = policy
      .sendRequest(testRequest({ signal: caller.signal }), hangingNext())
      .catch((e: unknown) => e);
    caller.abort(new Error("shutting down"));
    const error = await call;
    expect(isRequestTimeout(error)).toBe(false);
    expect((error as Error).message).toBe("shutting down");
    expect(clock.pending()).toBe(0);
  });

  it("stops timing a watch once its headers arrive, leaving the stream to the caller's signal", async () => {
    const clock = new FakeClock();
    const caller = new AbortController();
    let signal: AbortSignal | undefined;
    const next = vi.fn(async (r: KubeRequest) => {
      signal = r.signal;
      return testResponse(200);
    });
    const policy = timeoutPolicy({ defaultTimeoutMs: 1_000, clock });
    await policy.sendRequest(testRequest({ stream: true, signal: caller.signal }), next);
    expect(clock.pending()).toBe(0);
    clock.step(60_000);
    expect(signal!.aborted).toBe(false);
    caller.abort();
    expect(signal!.aborted).toBe(true);
  });
});
