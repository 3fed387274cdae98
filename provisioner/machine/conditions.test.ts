import { describe, expect, it } from "vitest";
import { machine } from "../fixtures.ts";
import { conditionOf, readiness, setMachineCondition } from "./conditions.ts";

const t0 = Date.UTC(2026, 0, 1);

describe("Machine conditions", () => {
  it("move lastTransitionTime only when the status changes", () => {
    const m = machine();
    setMachineCondition(m, "MachineRegistered", "Unknown", "NodeNotFound", "waiting", t0);
    setMachineCondition(m, "MachineRegistered", "Unknown", "NodeNotFound", "still waiting", t0 + 60_000);
    expect(conditionOf(m, "MachineRegistered")).toMatchObject({
      message: "still waiting",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    });
    setMachineCondition(m, "MachineRegistered", "True", "Registered", "node n registered", t0 + 120_000);
    expect(conditionOf(m, "MachineRegistered")?.lastTransitionTime).toBe("2026-01-01T00:02:00Z");
  });

  it("make Ready False on any failure, Unknown while pending, True when all three hold", () => {
    const m = machine();
    expect(readiness(m).status).toBe("Unknown");
    setMachineCondition(m, "MachineLaunched", "True", "Launched", "ok", t0);
    setMachineCondition(m, "MachineRegistered", "Unknown", "NodeNotFound", "no node yet", t0);
    expect(readiness(m)).toEqual({ status: "Unknown", reason: "NodeNotFound", message: "no node yet" });
    setMachineCondition(m, "MachineRegistered", "True", "Registered", "ok", t0);
    setMachineCondition(m, "MachineInitialized", "True", "Initialized", "ok", t0);
    expect(readiness(m).status).toBe("True");

    const failed = machine();
    setMachineCondition(failed, "MachineLaunched", "False", "QuotaExceeded", "quota is used up", t0);
    setMachineCondition(failed, "MachineRegistered", "Unknown", "NotLaunched", "waiting", t0);
    expect(readiness(failed)).toEqual({
      status: "False",
      reason: "QuotaExceeded",
      message: "quota is used up",
    });
  });
});
