import { describe, expect, it } from "vitest";
import type { Instance } from "../cloud/types.ts";
import { orphanCandidates } from "./garbagecollection.ts";

const instance = (machineName: string, createdAt: number): Instance => ({
  providerID: `fake://${machineName}`,
  machineName,
  instanceType: "S",
  zone: "z",
  capacity: {},
  labels: {},
  createdAt,
});

describe("garbage collection", () => {
  it("considers only instances past the grace period whose Machine is gone", () => {
    const now = 1_000_000;
    const instances = [instance("kept", 0), instance("orphan", 0), instance("young-orphan", now - 10_000)];
    const candidates = orphanCandidates(instances, (i) => i.machineName === "kept", now, 60_000);
    expect(candidates.map((i) => i.machineName)).toEqual(["orphan"]);
  });
});
