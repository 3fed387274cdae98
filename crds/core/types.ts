/**
 * The meta/v1 and core/v1 shapes our custom resources embed, as plain JSON: timestamps stay
 * RFC 3339 strings, exactly as the API server sends them (client-node's generated classes turn
 * them into Date objects, which raw custom-resource JSON never holds).
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export type ConditionStatus = "True" | "False" | "Unknown";

/** meta/v1 Condition: every field but observedGeneration is required by its schema. */
export interface Condition<Type extends string = string> {
  type: Type;
  status: ConditionStatus;
  /** CamelCase, machine-readable: "NodeNotFound", "PlanFailed". */
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type LabelSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type NodeSelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";

export interface NodeSelectorRequirement {
  key: string;
  operator: NodeSelectorOperator;
  values?: string[];
}

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
  timeAdded?: string;
}

/** A resource.Quantity: "8Gi", "500m", or a bare number. */
export type Quantity = string | number;

/** core/v1 ResourceList: resource name ("cpu", "nvidia.com/gpu") to quantity. */
export type ResourceList = Record<string, Quantity>;
