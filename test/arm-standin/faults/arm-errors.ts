import { armError, type StandinRequest } from "../http.ts";
import type { Fault } from "./injector.ts";

// The refusals ARM gives a VM create, with the status codes and wording it uses (see "Resolve
// errors for SKU not available" and "Resolve errors for resource quotas" in the ARM docs): the
// body is always {"error": {"code", "message"}}.

const CREATE = "virtualMachines.createOrUpdate";

export interface VmFaultOptions {
  times?: number;
  /** Only creates of this size (case-insensitive); any size when absent. */
  size?: string;
}

/** The vmSize of a PUT body, for messages and size-specific faults. */
export function requestedSize(request: StandinRequest): string {
  try {
    const body = JSON.parse(request.body || "{}") as {
      properties?: { hardwareProfile?: { vmSize?: string } };
    };
    return body.properties?.hardwareProfile?.vmSize ?? "";
  } catch {
    return "";
  }
}

function forSize(o: VmFaultOptions): Pick<Fault, "operation" | "times" | "matches"> {
  return {
    operation: CREATE,
    times: o.times ?? 1,
    ...(o.size
      ? { matches: (r: StandinRequest) => requestedSize(r).toLowerCase() === o.size!.toLowerCase() }
      : {}),
  };
}

/** 409 QuotaExceeded: the family's vCPU quota in the region is used up. */
export function quotaExceeded(o: VmFaultOptions = {}): Fault {
  return {
    ...forSize(o),
    respond: (r) =>
      armError(
        409,
        "QuotaExceeded",
        `Operation could not be completed as it results in exceeding approved quota for size ${requestedSize(r)}. Current Limit: 24, Current Usage: 24, Additional Required: 24.`,
      ),
  };
}

/** 409 OperationNotAllowed with quota wording: how older API versions report exhausted cores. */
export function operationNotAllowed(o: VmFaultOptions & { quota?: boolean } = {}): Fault {
  const quota = o.quota ?? true;
  return {
    ...forSize(o),
    respond: (r) =>
      armError(
        409,
        "OperationNotAllowed",
        quota
          ? `Operation results in exceeding quota limits of Core. Maximum allowed: 4, Current in use: 4, Additional requested: 24 (size ${requestedSize(r)}).`
          : "The operation is not allowed because the resource group is locked.",
      ),
  };
}

/** 409 SkuNotAvailable: the size is not offered to this subscription in the location or zone. */
export function skuNotAvailable(o: VmFaultOptions = {}): Fault {
  return {
    ...forSize(o),
    respond: (r) =>
      armError(
        409,
        "SkuNotAvailable",
        `The requested VM size '${requestedSize(r)}' is currently not available in location 'eastus' for subscription. Please try another size or deploy to a different location or zones.`,
      ),
  };
}

/**
 * AllocationFailed: by default accepted (201) and then failed in the long-running operation, as
 * ARM reports a capacity shortfall found during placement; `sync` answers 409 at once instead.
 */
export function allocationFailed(o: VmFaultOptions & { sync?: boolean; code?: string } = {}): Fault {
  const code = o.code ?? "AllocationFailed";
  return {
    ...forSize(o),
    phase: o.sync ? "request" : "operation",
    respond: (r) =>
      armError(
        409,
        code,
        `Allocation failed. We do not have sufficient capacity for the requested VM size ${requestedSize(r)} in this region.`,
      ),
  };
}
