import { describe, expect, it } from "vitest";
import { retryAfterMs } from "./retry-after.ts";

describe("retryAfterMs", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it("reads delay-seconds", () => {
    expect(retryAfterMs({ "retry-after": "1" }, now)).toBe(1_000);
    expect(retryAfterMs({ "retry-after": " 120 " }, now)).toBe(120_000);
    expect(retryAfterMs({ "retry-after": "0" }, now)).toBe(0);
  });

  it("reads an HTTP date against the clock, a past date being no delay", () => {
    expect(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 12:00:05 GMT" }, now)).toBe(5_000);
    expect(retryAfterMs({ "retry-after": "Thu, 01 Jan 2026 11:00:00 GMT" }, now)).toBe(0);
  });

  it("is undefined without the header or with one it cannot read", () => {
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after": "soon" }, now)).toBeUndefined();
    expect(retryAfterMs({ "retry-after": "-3" }, now)).toBeUndefined();
  });
});
