import { describe, expect, it } from "vitest";
import {
  CreateError,
  InsufficientCapacityError,
  MachineNotFoundError,
  isCreateError,
  isInsufficientCapacity,
  isMachineNotFound,
} from "./errors.ts";

describe("cloud errors", () => {
  it("carry a name, a code and their fields, and each guard accepts only its own kind", () => {
    const ice = new InsufficientCapacityError("quota", "Standard_NC24ads_A100_v4", "quota is used up.");
    expect(ice).toMatchObject({
      name: "InsufficientCapacityError",
      code: "InsufficientCapacity",
      reason: "quota",
    });
    expect(isInsufficientCapacity(ice)).toBe(true);
    expect(isMachineNotFound(ice)).toBe(false);

    const missing = new MachineNotFoundError("kwok://a");
    expect(missing).toMatchObject({ name: "MachineNotFoundError", code: "MachineNotFound", id: "kwok://a" });
    expect(isMachineNotFound(missing)).toBe(true);

    const create = new CreateError("Throttled", "ARM asked us to slow down.");
    expect(create).toMatchObject({ code: "CreateError", conditionReason: "Throttled" });
    expect(isCreateError(create)).toBe(true);
    expect(isCreateError(new Error("x"))).toBe(false);
  });

  it("recognise errors from another copy of the module by name", () => {
    const foreign = Object.assign(new Error("gone"), { name: "MachineNotFoundError" });
    expect(isMachineNotFound(foreign)).toBe(true);
    expect(isMachineNotFound("MachineNotFoundError")).toBe(false);
  });
});
