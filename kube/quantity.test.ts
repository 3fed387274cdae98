import { describe, expect, it } from "vitest";
import { parseQuantity } from "./quantity.ts";

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
