export { AzureCloudProvider, type AzureCloudOptions } from "./cloudprovider.ts";
export { createFailure, readArmFailure, type ArmFailure } from "./errors.ts";
export { instanceFromVm, machineTag } from "./instance.ts";
export { armZoneOf, parseProviderId, providerIdFor, vmNameFor, vmResourceId, zoneLabelOf } from "./names.ts";
export {
  joinDataFile,
  joinDataValue,
  kubeletRegistration,
  loadJoinData,
  maxCustomDataBytes,
  NodeJoinData,
  nodeLabelsPlaceholder,
  nodeTaintsPlaceholder,
  type JoinDataSource,
  type KubeletRegistration,
} from "./joindata.ts";
export {
  azureFlags,
  joinDataEnv,
  missingJoinDataMessage,
  azureSettingsFrom,
  createAzureCloud,
  defaultImage,
  parseEndpoint,
  parseImage,
  type AzureSettings,
} from "./config.ts";
