import { describe, expect, it } from "vitest";
import { parseDuration } from "./args.ts";

describe("parseDuration", () => {
  it("reads Kubernetes-style durations and bare seconds", () => {
    expect(parseDuration("15s", "--x")).toBe(15_000);
    expect(parseDuration("1500ms", "--x")).toBe(1_500);
    expect(parseDuration("1m30s", "--x")).toBe(90_000);
    expect(parseDuration("2", "--x")).toBe(2_000);
    expect(parseDuration("0.5s", "--x")).toBe(500);
  });

  it("refuses anything else with a sentence naming the flag", () => {
    for (const bad of ["", "s", "15 s", "15sec", "-1s", "1d"])
      expect(() => parseDuration(bad, "--request-timeout"), bad).toThrow(
        /^--request-timeout must be a duration such as 15s, 1500ms or 1m/,
      );
  });
});
