import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import type { KubeRequest } from "../pipeline.ts";
import { observePolicy, type AttemptInfo } from "./observe.ts";
import { flush, hangingNext, testRequest, testResponse } from "./testing.ts";

describe("observePolicy", () => {
  it("reports each attempt with its status, host and the time it took on the clock", async () => {
    const clock = new FakeClock();
    const seen: AttemptInfo[] = [];
    const policy = observePolicy(clock, (i) => seen.push(i));
    const call = policy.sendRequest(testRequest({ method: "PATCH" }), async () => {
      await clock.sleep(250);
      return testResponse(409);
    });
    clock.step(250);
    await call;
    expect(seen).toEqual([
      {
        method: "PATCH",
        host: "127.0.0.1:6443",
        path: "/api/v1/namespaces/default/pods",
        code: "409",
        durationMs: 250,
      },
    ]);
  });

  it('reports "<error>" when no response came, an aborted attempt included, and passes the error on', async () => {
    const clock = new FakeClock();
    const seen: AttemptInfo[] = [];
    const policy = observePolicy(clock, (i) => seen.push(i));
    const caller = new AbortController();
    const requests: KubeRequest[] = [];
    const call = policy
      .sendRequest(testRequest({ signal: caller.signal }), hangingNext(requests))
      .catch((e: unknown) => e);
    await flush();
    caller.abort(new Error("stopping"));
    expect(((await call) as Error).message).toBe("stopping");
    expect(seen.map((s) => s.code)).toEqual(["<error>"]);
  });
});
