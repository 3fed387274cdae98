/** API coordinates of the Karpenter-core Machine: karpenter.sh/v1alpha5, cluster-scoped. */
export const machineGroup = "karpenter.sh";
export const machineVersion = "v1alpha5";
export const machineApiVersion = `${machineGroup}/${machineVersion}`;
export const machineKind = "Machine";
export const machinePlural = "machines";
export const machineSingular = "machine";
export const machineCrdName = `${machinePlural}.${machineGroup}`;

/**
 * The condition types of a Machine. MachineLaunched: the cloud created the instance;
 * MachineRegistered: a Node with the Machine's providerID exists; MachineInitialized: that Node is
 * Ready, its startup taints are gone and every requested resource is allocatable; Ready: all three.
 */
export const machineConditionTypes = [
  "MachineLaunched",
  "MachineRegistered",
  "MachineInitialized",
  "Ready",
] as const;
export type MachineConditionType = (typeof machineConditionTypes)[number];

/** Held on a Machine until its instance is gone, as Karpenter does. */
export const terminationFinalizer = "karpenter.sh/termination";

/** Well-known labels a Machine carries (and its Node inherits). */
export const instanceTypeLabel = "node.kubernetes.io/instance-type";
export const zoneLabel = "topology.kubernetes.io/zone";
export const capacityTypeLabel = "karpenter.sh/capacity-type";
export const provisionerNameLabel = "karpenter.sh/provisioner-name";
