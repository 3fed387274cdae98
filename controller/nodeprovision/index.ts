// Node provisioning: how a Workspace's placement becomes nodes, one implementation per
// `--node-provisioner` mode behind the NodeProvisioner seam (types.ts).
export * from "./types.ts";
export { createNodeProvisioner, type NodeProvisionerConfig } from "./factory.ts";
export { gpuTaint, nodeLabelsFor } from "./labels.ts";
export { nodeObjectName, nodeObjectNamePattern } from "./naming.ts";
export { osDiskGiB } from "./storage.ts";
export { desiredMachine, launchOfMachine, machineInstanceType } from "./machines.ts";
export { nodeClaimInstanceType } from "./nodeclaims.ts";
export {
  defaultNodeClass,
  gpuProvisionerNodeClaim,
  karpenterNodeClaim,
  kwokNodeClass,
  parseNodeClass,
} from "./nodeclaim-shapes.ts";
export { releaseOf, sharedNodeNames, type Release, type SharedNodeUsers } from "./sharing.ts";
