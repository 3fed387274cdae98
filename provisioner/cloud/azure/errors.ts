import { CreateError, InsufficientCapacityError, MachineNotFoundError } from "../errors.ts";

// The one place that reads ARM's failure codes. Everything else in the backend sees our typed
// errors only. ARM reports a failed VM create in two ways: synchronously, as an HTTP error whose
// body is {"error": {"code", "message"}} (the SDK raises a RestError with that code and status),
// or asynchronously, as a long-running operation that ends "Failed" (the SDK's poller raises a
// plain Error whose message carries the code). Throttling (429) and 5xx are retried inside the
// SDK's pipeline before anything gets here, so they arrive only once its retries are spent.

/** What the mapping needs from an ARM failure. */
export interface ArmFailure {
  statusCode?: number;
  code?: string;
  message: string;
}

/**
 * The code, status and message of a RestError, or of a failed long-running operation. Read by
 * shape, not instanceof (the SDK and its pipeline can load different copies of the class), and
 * never the request or response, which carry the bearer token.
 */
export function readArmFailure(e: unknown): ArmFailure | undefined {
  if (!(e instanceof Error)) return undefined;
  if (e.name === "RestError") {
    const { statusCode, code } = e as Error & { statusCode?: unknown; code?: unknown };
    return {
      ...(typeof statusCode === "number" ? { statusCode } : {}),
      ...(typeof code === "string" ? { code } : {}),
      message: e.message,
    };
  }
  // @azure/core-lro: "The long-running operation has failed. <code>. <message>"
  const lro = /^The long-running operation has failed\. ([A-Za-z]+)\. ([\s\S]*)$/.exec(e.message);
  if (lro) return { code: lro[1], message: lro[2]! };
  return undefined;
}

const allocationCodes = new Set([
  "allocationfailed",
  "zonalallocationfailed",
  "overconstrainedallocationrequest",
  "overconstrainedzonalallocationrequest",
]);

/** OperationNotAllowed also covers other refusals; only these texts mean "out of quota". */
const quotaText = /quota|exceeding approved|cores? limit/i;

/**
 * Our error for a failed create of `sku`: InsufficientCapacityError for quota, SKU and capacity
 * refusals (the Workspace controller replans without the SKU), CreateError for the rest, which
 * the Machine controller retries with backoff.
 */
export function createFailure(e: unknown, sku: string, vmName: string): Error {
  const arm = readArmFailure(e);
  if (!arm) {
    if (e instanceof Error && e.name === "AbortError") return e;
    return new CreateError("LaunchFailed", `creating VM ${vmName} (${sku}) failed: ${messageOf(e)}`, {
      cause: e,
    });
  }
  const code = (arm.code ?? "").toLowerCase();
  const said = `ARM ${arm.code ?? `HTTP ${arm.statusCode ?? "error"}`}: ${arm.message}`;
  if (code === "quotaexceeded" || (code === "operationnotallowed" && quotaText.test(arm.message))) {
    return new InsufficientCapacityError(
      "quota",
      sku,
      `the vCPU quota does not allow another ${sku} (${said}).`,
    );
  }
  if (code === "skunotavailable") {
    return new InsufficientCapacityError(
      "sku",
      sku,
      `${sku} is not available in this location or zone (${said}).`,
    );
  }
  if (allocationCodes.has(code)) {
    return new InsufficientCapacityError(
      "allocation",
      sku,
      `Azure has no capacity for ${sku} right now (${said}).`,
    );
  }
  if (arm.statusCode === 429) {
    return new CreateError("Throttled", `ARM kept throttling the create of ${sku} after retries (${said}).`);
  }
  if (arm.statusCode === 401 || arm.statusCode === 403) {
    return new CreateError("Unauthorized", `ARM refused to create VM ${vmName} (${said}).`);
  }
  return new CreateError(arm.code ?? "LaunchFailed", `creating VM ${vmName} (${sku}) failed (${said}).`);
}

/** True when ARM said the resource (or its resource group) does not exist. */
export function isArmNotFound(e: unknown): boolean {
  const arm = readArmFailure(e);
  return arm?.statusCode === 404;
}

/** Our error for a failed read or delete: NotFound becomes MachineNotFoundError, the rest a plain Error without the request. */
export function lookupFailure(e: unknown, id: string, what: string): Error {
  if (isArmNotFound(e)) return new MachineNotFoundError(id);
  const arm = readArmFailure(e);
  if (!arm) return e instanceof Error ? e : new Error(String(e));
  return new Error(`${what} failed (ARM ${arm.code ?? `HTTP ${arm.statusCode ?? "error"}`}: ${arm.message})`);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
