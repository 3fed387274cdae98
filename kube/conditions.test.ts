import { describe, expect, it } from "vitest";
import { topLevelMergePatch } from "./conditions.ts";

describe("topLevelMergePatch", () => {
  it("sends changed keys whole and removed keys as null", () => {
    expect(
      topLevelMergePatch(
        { state: "Pending", nodeCount: 1, placement: { newNodes: 1 } },
        { state: "Ready", nodeCount: 1, workerNodes: ["n1"] },
      ),
    ).toEqual({ state: "Ready", workerNodes: ["n1"], placement: null });
  });

  it("sees no change in an object the API server stored with its keys in another order", () => {
    // What we build: type, status, reason ...; what the server stores and the cache returns: sorted.
    const ours = { type: "Ready", status: "True", reason: "R", message: "m", lastTransitionTime: "t" };
    const stored = { lastTransitionTime: "t", message: "m", reason: "R", status: "True", type: "Ready" };
    expect(
      topLevelMergePatch(
        { conditions: [stored], placement: { b: 1, a: [{ y: 1, x: 2 }] } },
        {
          conditions: [ours],
          placement: { a: [{ x: 2, y: 1 }], b: 1 },
        },
      ),
    ).toEqual({});
    // Order still matters in arrays, and a changed value is still a change.
    expect(topLevelMergePatch({ workerNodes: ["a", "b"] }, { workerNodes: ["b", "a"] })).toEqual({
      workerNodes: ["b", "a"],
    });
    expect(
      topLevelMergePatch({ conditions: [stored] }, { conditions: [{ ...ours, status: "False" }] }),
    ).toEqual({
      conditions: [{ ...ours, status: "False" }],
    });
  });
});
