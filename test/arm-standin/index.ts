export { startArmStandin, type ArmStandin, type ArmStandinOptions, type LoggedRequest } from "./server.ts";
export { ArmState, type WireResourceSku, type WireRestriction, type WireUsage } from "./state.ts";
export { FaultInjector, serverError, throttle, type Fault } from "./faults/index.ts";
export { notAvailableInLocation, notAvailableInZones, usage, vmSku, type VmSkuSpec } from "./fixtures.ts";
export { staticTokenCredential, standinComputeClient } from "./client.ts";
