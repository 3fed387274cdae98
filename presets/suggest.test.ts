import { describe, expect, it } from "vitest";
import { closeNames, editDistance } from "./suggest.ts";

const names = [
  "phi-2",
  "phi-4",
  "phi-4-mini-instruct",
  "llama-3.1-8b-instruct",
  "llama-3.3-70b-instruct",
  "mistral-7b",
];

describe("closeNames", () => {
  it("measures Levenshtein distance", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("prefers names that contain the input, nearest first", () => {
    expect(closeNames("phi", names)).toEqual(["phi-2", "phi-4", "phi-4-mini-instruct"]);
    expect(closeNames("mistral", names)).toEqual(["mistral-7b"]);
  });

  it("offers a near miss alone when the others are much farther", () => {
    expect(closeNames("llama-3.1-8b-instrcut", names)).toEqual(["llama-3.1-8b-instruct"]);
  });

  it("offers nothing for unrelated input", () => {
    expect(closeNames("stable-diffusion", names)).toEqual([]);
    expect(closeNames("", names)).toEqual([]);
  });
});
