export { startArmStandin, type ArmStandin, type ArmStandinOptions, type LoggedRequest } from "./server.ts";
export {
  ArmState,
  vmKey,
  type WireResourceSku,
  type WireRestriction,
  type WireUsage,
  type WireVm,
} from "./state.ts";
export {
  FaultInjector,
  allocationFailed,
  operationNotAllowed,
  quotaExceeded,
  serverError,
  skuNotAvailable,
  throttle,
  type Fault,
} from "./faults/index.ts";
export {
  notAvailableInLocation,
  notAvailableInZones,
  seedSubscription,
  usage,
  vmSku,
  type SubscriptionSeed,
  type VmSkuSpec,
} from "./fixtures.ts";
export { staticTokenCredential, standinComputeClient } from "./client.ts";
export { HookRunner, type VmBoot, type VmHooks } from "./lro.ts";
export * from "./kubelet/index.ts";
export {
  armAudience,
  appServiceMsiApiVersion,
  managedIdentityPath,
  MANAGED_IDENTITY_TOKEN,
  type ManagedIdentity,
} from "./managed-identity.ts";
export { standinProcessEnv } from "./process-env.ts";
