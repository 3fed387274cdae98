import { RestError } from "@azure/arm-compute";
import { describe, expect, it } from "vitest";
import { isCreateError, isInsufficientCapacity, isMachineNotFound } from "../errors.ts";
import { createFailure, lookupFailure, readArmFailure } from "./errors.ts";

const sku = "Standard_NC6s_v3";
const rest = (statusCode: number, code: string, message = `${code} happened`) =>
  new RestError(message, { statusCode, code });

describe("ARM failures to our errors", () => {
  it.each([
    ["QuotaExceeded", 409, "quota"],
    ["OperationNotAllowed", 409, "quota", "Operation results in exceeding quota limits of Core."],
    ["SkuNotAvailable", 409, "sku"],
    ["AllocationFailed", 409, "allocation"],
    ["ZonalAllocationFailed", 409, "allocation"],
    ["OverconstrainedAllocationRequest", 409, "allocation"],
  ] as const)("%s (%i) is InsufficientCapacity(%s)", (code, status, reason, message?: string) => {
    const e = createFailure(rest(status, code, message), sku, "vm-1");
    expect(e).toSatisfy(isInsufficientCapacity);
    expect(e).toMatchObject({ reason, sku });
    expect(e.message).toContain(sku);
  });

  it("reads the code of a long-running operation that failed", () => {
    const lro = new Error(
      "The long-running operation has failed. AllocationFailed. No capacity for the size.",
    );
    expect(readArmFailure(lro)).toEqual({ code: "AllocationFailed", message: "No capacity for the size." });
    expect(createFailure(lro, sku, "vm-1")).toMatchObject({ reason: "allocation" });
  });

  it("keeps other refusals retryable and says what ARM said", () => {
    const locked = createFailure(
      rest(409, "OperationNotAllowed", "The resource group is locked."),
      sku,
      "vm-1",
    );
    expect(locked).toSatisfy(isCreateError);
    expect(locked.message).toContain("The resource group is locked.");
    expect(createFailure(rest(429, "TooManyRequests"), sku, "vm-1")).toMatchObject({
      conditionReason: "Throttled",
    });
    expect(createFailure(rest(403, "AuthorizationFailed"), sku, "vm-1")).toMatchObject({
      conditionReason: "Unauthorized",
    });
    expect(createFailure(new Error("socket hang up"), sku, "vm-1")).toMatchObject({
      conditionReason: "LaunchFailed",
    });
  });

  it("maps 404 to MachineNotFound and never carries the request along", () => {
    expect(lookupFailure(rest(404, "ResourceNotFound"), "id", "reading")).toSatisfy(isMachineNotFound);
    const withRequest = new RestError("boom", {
      statusCode: 500,
      code: "InternalServerError",
      request: { headers: { get: () => "Bearer secret-token" } } as never,
    });
    const mapped = lookupFailure(withRequest, "id", "reading VM x");
    expect(JSON.stringify(mapped)).not.toContain("secret-token");
    expect(mapped.message).toBe("reading VM x failed (ARM InternalServerError: boom)");
  });
});
