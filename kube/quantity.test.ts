import { describe, expect, it } from "vitest";
import { parseQuantity, quantity } from "./quantity.ts";

describe("parseQuantity", () => {
  it.each([
    ["8", 8],
    ["0", 0],
    ["1k", 1000],
    ["2000m", 2],
    ["1Gi", 2 ** 30],
    ["1e3", 1000],
    ["1.5", 1.5],
    [" 4 ", 4],
    [4, 4],
  ])("reads %j as %d", (input, expected) => {
    expect(parseQuantity(input)).toBe(expected);
  });

  it.each<unknown>(["", "abc", "1x", "Gi", null, undefined, {}, Number.NaN])("rejects %j", (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});

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
