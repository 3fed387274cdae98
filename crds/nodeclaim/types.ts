/**
 * karpenter.sh/v1 NodeClaim as plain JSON: the fields kaito writes (spec) and reads (status).
 * Field names follow Karpenter core's pkg/apis/v1/nodeclaim.go and nodeclaim_status.go; the API
 * server enforces the module's own CRD, so anything written here that it refuses fails loudly.
 */
import type { ObjectMeta, ResourceList, Taint } from "../core/types.ts";
import type { NodeClaimConditionType } from "./constants.ts";

/** A node selector requirement; minValues asks Karpenter for flexibility we never give it. */
export interface NodeClaimRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt" | "Gte" | "Lte";
  values?: string[];
  minValues?: number;
}

/** The provider's node class: group, kind and name are all required by the CRD. */
export interface NodeClassReference {
  group: string;
  kind: string;
  name: string;
}

export interface NodeClaimSpec {
  taints?: Taint[];
  startupTaints?: Taint[];
  requirements: NodeClaimRequirement[];
  resources?: { requests?: ResourceList };
  nodeClassRef: NodeClassReference;
  /** A duration such as "720h", or "Never" (Karpenter's default is 720h). */
  expireAfter?: string;
  terminationGracePeriod?: string;
}

/** operatorpkg's status condition, as Karpenter writes it. */
export interface NodeClaimCondition {
  type: NodeClaimConditionType | (string & {});
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface NodeClaimStatus {
  nodeName?: string;
  providerID?: string;
  imageID?: string;
  capacity?: ResourceList;
  allocatable?: ResourceList;
  conditions?: NodeClaimCondition[];
  lastPodEventTime?: string;
}

export interface NodeClaim {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: NodeClaimSpec;
  status?: NodeClaimStatus;
}
