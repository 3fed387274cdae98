export { FaultInjector, type Fault } from "./injector.ts";
export { throttle } from "./throttle.ts";
export { serverError } from "./server-error.ts";
export {
  allocationFailed,
  operationNotAllowed,
  quotaExceeded,
  requestedSize,
  skuNotAvailable,
  type VmFaultOptions,
} from "./arm-errors.ts";
