import type { FaultInjector } from "../faults/injector.ts";
import type { Policy } from "../http.ts";

/** Serves the next scripted failure for the operation, if one is queued. */
export function injectFaults(faults: FaultInjector): Policy {
  return (request, route) => faults.take(route.operation, request);
}
