import { describe, expect, it } from "vitest";
import { SupersededVersions } from "./superseded.ts";

describe("SupersededVersions", () => {
  it("knows the versions a Machine was written from, a bounded few per Machine, until forgotten", () => {
    const v = new SupersededVersions(2);
    v.record("m", "10");
    v.record("m", "11");
    expect(v.superseded("m", "10")).toBe(true);
    expect(v.superseded("m", "12")).toBe(false);
    expect(v.superseded("other", "10")).toBe(false);
    v.record("m", "12");
    expect(v.superseded("m", "10")).toBe(false);
    v.forget("m");
    expect(v.superseded("m", "11")).toBe(false);
    expect(v.superseded("m", undefined)).toBe(false);
  });
});
