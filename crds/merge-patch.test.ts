import { describe, expect, it } from "vitest";
import { mergePatch } from "./merge-patch.ts";

describe("mergePatch", () => {
  it("merges objects key by key and removes keys patched with null", () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, d: 3 }, { a: { b: 9, c: null }, e: 4 })).toEqual({
      a: { b: 9 },
      d: 3,
      e: 4,
    });
  });

  it("replaces arrays and scalars whole", () => {
    expect(mergePatch({ a: [1, 2], b: { c: 1 } }, { a: [3], b: "x" })).toEqual({ a: [3], b: "x" });
  });

  it("replaces a non-object target and leaves the inputs untouched", () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: { d: 2 } } };
    expect(mergePatch("x", { a: 1 })).toEqual({ a: 1 });
    expect(mergePatch(target, patch)).toEqual({ a: { b: 1, c: { d: 2 } } });
    expect(target).toEqual({ a: { b: 1 } });
    expect(patch).toEqual({ a: { c: { d: 2 } } });
  });
});
