import { describe, expect, it, vi } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import type { KubeRequest, KubeResponse } from "../pipeline.ts";
import { connectionResetRetryStrategy } from "../retry/connection-reset.ts";
import { throttlingRetryStrategy } from "../retry/throttling.ts";
import { retryPolicy } from "./retry.ts";
import { flush, testRequest, testResponse } from "./testing.ts";

function setup(responses: (KubeResponse | Error)[], maxRetries = 10) {
  const clock = new FakeClock();
  const retries: { method: string; code: string }[] = [];
  const next = vi.fn(async (_r: KubeRequest) => {
    const r = responses.shift() ?? testResponse(200);
    if (r instanceof Error) throw r;
    return r;
  });
  const policy = retryPolicy({
    clock,
    maxRetries,
    strategies: [throttlingRetryStrategy({ clock }), connectionResetRetryStrategy()],
    onRetry: (i) => retries.push(i),
  });
  return { clock, next, policy, retries };
}

describe("retryPolicy with the throttling strategy", () => {
  it("waits the Retry-After a 429 names before the next attempt, for any verb", async () => {
    const { clock, next, policy, retries } = setup([testResponse(429, { "retry-after": "2" })]);
    const call = policy.sendRequest(testRequest({ method: "POST" }), next);
    await flush();
    expect(next).toHaveBeenCalledTimes(1);
    clock.step(1_999);
    await flush();
    expect(next).toHaveBeenCalledTimes(1);
    clock.step(1);
    expect((await call).status).toBe(200);
    expect(next).toHaveBeenCalledTimes(2);
    expect(retries).toEqual([{ method: "POST", code: "429" }]);
  });

  it("reads an HTTP date, and waits a second after a 429 that names no delay", async () => {
    const clock0 = new FakeClock();
    const at = new Date(clock0.now() + 3_000).toUTCString();
    const { clock, next, policy } = setup([testResponse(429, { "retry-after": at }), testResponse(429)]);
    const call = policy.sendRequest(testRequest(), next);
    clock.step(2_999);
    await flush();
    expect(next).toHaveBeenCalledTimes(1);
    clock.step(1);
    await flush();
    expect(next).toHaveBeenCalledTimes(2);
    clock.step(1_000);
    expect((await call).status).toBe(200);
    expect(next).toHaveBeenCalledTimes(3);
  });

  it("repeats a 5xx only when it carries a Retry-After", async () => {
    const plain = setup([testResponse(500)]);
    expect((await plain.policy.sendRequest(testRequest(), plain.next)).status).toBe(500);
    expect(plain.next).toHaveBeenCalledTimes(1);

    const later = setup([testResponse(503, { "retry-after": "1" })]);
    const call = later.policy.sendRequest(testRequest(), later.next);
    await flush();
    later.clock.step(1_000);
    expect((await call).status).toBe(200);
    expect(later.next).toHaveBeenCalledTimes(2);
  });

  it("returns the last 429 once the retries run out", async () => {
    const { clock, next, policy } = setup(
      Array.from({ length: 5 }, () => testResponse(429, { "retry-after": "1" })),
      2,
    );
    const call = policy.sendRequest(testRequest(), next);
    for (let i = 0; i < 3; i++) {
      await flush();
      clock.step(1_000);
    }
    expect((await call).status).toBe(429);
    expect(next).toHaveBeenCalledTimes(3);
  });

  it("stops waiting when the call is aborted, without another attempt", async () => {
    const { clock, next, policy } = setup([testResponse(429, { "retry-after": "30" })]);
    const caller = new AbortController();
    const call = policy.sendRequest(testRequest({ signal: caller.signal }), next).catch((e: unknown) => e);
    await flush();
    caller.abort(new Error("deadline"));
    expect(((await call) as Error).message).toBe("deadline");
    clock.step(60_000);
    await flush();
    expect(next).toHaveBeenCalledTimes(1);
    expect(clock.pending()).toBe(0);
  });

  it("repeats a GET whose connection was reset, never a write", async () => {
    const reset = () => Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    const get = setup([reset()]);
    const call = get.policy.sendRequest(testRequest(), get.next);
    await flush();
    get.clock.step(1_000);
    expect((await call).status).toBe(200);

    const post = setup([reset()]);
    await expect(post.policy.sendRequest(testRequest({ method: "POST" }), post.next)).rejects.toThrow(
      /ECONNRESET/,
    );
    expect(post.next).toHaveBeenCalledTimes(1);
  });

  it("leaves other answers alone", async () => {
    const { next, policy } = setup([testResponse(404), testResponse(409)]);
    expect((await policy.sendRequest(testRequest(), next)).status).toBe(404);
    expect((await policy.sendRequest(testRequest(), next)).status).toBe(409);
    expect(next).toHaveBeenCalledTimes(2);
  });
});
