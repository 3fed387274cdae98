export { LocalCloudProvider, type LocalCloudOptions } from "./cloudprovider.ts";
export { LaunchFaults, injectedFailure, type LaunchFailureKind, type QuotaTarget } from "./faults.ts";
export {
  acceleratorLabel,
  bootAnnotation,
  gpuCountLabel,
  gpuMemoryLabel,
  gpuProductLabel,
  localInstanceLabel,
  localProviderPrefix,
  machineNameLabel,
} from "./node.ts";
export { karpenterInstanceTypes, type KwokInstanceType } from "./karpenter-instance-types.ts";
