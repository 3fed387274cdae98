import { describe, expect, it } from "vitest";
import { quantity } from "./quantity.ts";

describe("quantity", () => {
  it.each([
    ["8", 8],
    [4, 4],
    ["500m", 0.5],
    ["2Gi", 2 * 2 ** 30],
    ["1k", 1000],
    ["1e3", 1000],
    ["0", 0],
  ])("reads %s", (input, value) => {
    expect(quantity(input)).toBe(value);
  });

  it("treats what is absent or malformed as zero, so no resource check passes on it", () => {
    expect(quantity(undefined)).toBe(0);
    expect(quantity("lots")).toBe(0);
    expect(quantity(Number.NaN)).toBe(0);
  });
});
