import { describe, expect, it } from "vitest";
import { mustFindSku } from "../../../planner/catalog/index.ts";
import { isCreateError, isInsufficientCapacity } from "../errors.ts";
import { LaunchFaults } from "./faults.ts";

const a100 = mustFindSku("Standard_NC24ads_A100_v4");

describe("LaunchFaults", () => {
  it("fails exactly the next N launches with the given kind", () => {
    const f = new LaunchFaults();
    f.failNextLaunches(2, "quota");
    f.failNextLaunches(1, "transient");
    const first = f.takeFailure("S");
    expect(isInsufficientCapacity(first) && first.reason).toBe("quota");
    expect(f.takeFailure("S")).toMatchObject({ reason: "quota", sku: "S" });
    expect(isCreateError(f.takeFailure("S"))).toBe(true);
    expect(f.takeFailure("S")).toBeUndefined();
  });

  it("exhausts quota by family (in any of ARM's spellings) or by SKU, until restored", () => {
    const f = new LaunchFaults();
    f.exhaustQuota({ family: a100.family.toUpperCase() });
    expect(f.quotaExhausted(a100)).toBe(true);
    f.restoreQuota({ family: a100.family });
    expect(f.quotaExhausted(a100)).toBe(false);
    f.exhaustQuota({ sku: a100.name.toLowerCase() });
    expect(f.quotaExhausted(a100)).toBe(true);
    f.clear();
    expect(f.quotaExhausted(a100)).toBe(false);
  });

  it("counts down never-register and never-boot launches", () => {
    const f = new LaunchFaults();
    f.neverRegisterNext(1);
    f.neverBootNext(2);
    expect([f.takeNeverRegister(), f.takeNeverRegister()]).toEqual([true, false]);
    expect([f.takeNeverBoot(), f.takeNeverBoot(), f.takeNeverBoot()]).toEqual([true, true, false]);
  });
});
