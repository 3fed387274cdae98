import { describe, expect, it } from "vitest";
import { machine } from "../fixtures.ts";
import { setMachineCondition } from "./conditions.ts";
import { launchDeadline, registrationDeadline } from "./liveness.ts";

const t0 = Date.UTC(2026, 0, 1);
const minute = 60_000;

describe("liveness deadlines", () => {
  it("fall 15 minutes after launch while the node has not registered", () => {
    const m = machine();
    expect(registrationDeadline(m, 15 * minute)).toBeUndefined();
    setMachineCondition(m, "MachineLaunched", "True", "Launched", "ok", t0);
    setMachineCondition(m, "MachineRegistered", "Unknown", "NodeNotFound", "waiting", t0 + 5 * minute);
    expect(registrationDeadline(m, 15 * minute)).toBe(t0 + 15 * minute);
    setMachineCondition(m, "MachineRegistered", "True", "Registered", "ok", t0 + 6 * minute);
    expect(registrationDeadline(m, 15 * minute)).toBeUndefined();
  });

  it("count a failing launch from its first failure, not from each retry", () => {
    const m = machine();
    setMachineCondition(m, "MachineLaunched", "Unknown", "LaunchFailed", "throttled", t0);
    setMachineCondition(m, "MachineLaunched", "Unknown", "Throttled", "throttled again", t0 + 3 * minute);
    expect(launchDeadline(m, 10 * minute)).toBe(t0 + 10 * minute);
    setMachineCondition(m, "MachineLaunched", "True", "Launched", "ok", t0 + 4 * minute);
    expect(launchDeadline(m, 10 * minute)).toBeUndefined();
  });
});
