import { describe, expect, it } from "vitest";
import type { StandinRequest } from "../http.ts";
import { FaultInjector } from "./injector.ts";
import { serverError } from "./server-error.ts";
import { throttle } from "./throttle.ts";

const req = {} as StandinRequest;

describe("FaultInjector", () => {
  it("serves each fault for its operation, `times` times, in the order added", () => {
    const faults = new FaultInjector()
      .add(throttle({ times: 2, retryAfterSeconds: 3, operation: "usages.list" }))
      .add(serverError({ times: 1, status: 503 }));
    expect(faults.pending()).toBe(3);

    expect(faults.take("usages.list", req)).toMatchObject({
      status: 429,
      headers: { "retry-after": "3" },
      body: { error: { code: "TooManyRequests" } },
    });
    // The operation-less 503 applies to anything.
    expect(faults.take("resourceSkus.list", req)).toMatchObject({
      status: 503,
      body: { error: { code: "ServiceUnavailable" } },
    });
    expect(faults.take("usages.list", req)?.status).toBe(429);
    expect(faults.take("usages.list", req)).toBeUndefined();
    expect(faults.pending()).toBe(0);
  });

  it("rejects a fault that would never fire", () => {
    expect(() => new FaultInjector().add(serverError({ times: 0 }))).toThrow(/times >= 1/);
  });
});
