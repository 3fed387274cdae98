/**
 * karpenter.sh/v1alpha5 Machine as plain JSON: the Karpenter-core API that KAITO's
 * gpu-provisioner speaks. crds/machine/schema.ts is the schema the API server enforces;
 * crds/machine/types.test.ts proves the two describe the same fields.
 */
import type { NodeSelectorRequirement, ObjectMeta, ResourceList, Taint } from "../core/types.ts";
import type { MachineConditionType } from "./constants.ts";

/** A subset of the kubelet's configuration that a provider may apply to the node. */
export interface KubeletConfiguration {
  clusterDNS?: string[];
  containerRuntime?: string;
  maxPods?: number;
  podsPerCore?: number;
  systemReserved?: ResourceList;
  kubeReserved?: ResourceList;
  evictionHard?: Record<string, string>;
  evictionSoft?: Record<string, string>;
  /** Signal name to a duration such as "1m30s". */
  evictionSoftGracePeriod?: Record<string, string>;
  evictionMaxPodGracePeriod?: number;
  imageGCHighThresholdPercent?: number;
  imageGCLowThresholdPercent?: number;
  cpuCFSQuota?: boolean;
}

/** A provider-specific object with the rest of the node's configuration. */
export interface MachineTemplateRef {
  kind?: string;
  name: string;
  apiVersion?: string;
}

export interface MachineSpec {
  /** Applied to the node for good. */
  taints?: Taint[];
  /** Applied at boot and expected to be removed by a daemon; initialization waits for that. */
  startupTaints?: Taint[];
  /** What the node must be: node.kubernetes.io/instance-type, topology.kubernetes.io/zone, ... */
  requirements?: NodeSelectorRequirement[];
  resources?: { requests?: ResourceList };
  kubelet?: KubeletConfiguration;
  machineTemplateRef?: MachineTemplateRef;
}

/** Knative-style condition, as Karpenter's v1alpha5 API writes them. */
export interface MachineCondition {
  type: MachineConditionType;
  status: "True" | "False" | "Unknown";
  /** "Error" (the default when absent), "Warning" or "Info". */
  severity?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface MachineStatus {
  /** The node's name once it registered. */
  nodeName?: string;
  /** The cloud's id of the instance; the Node carries the same spec.providerID. */
  providerID?: string;
  capacity?: ResourceList;
  allocatable?: ResourceList;
  conditions?: MachineCondition[];
}

export interface Machine {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: MachineSpec;
  status?: MachineStatus;
}
