export { FaultInjector, type Fault } from "./injector.ts";
export { throttle } from "./throttle.ts";
export { serverError } from "./server-error.ts";
