/**
 * kaito.sh InferenceSet (v1alpha1 and v1beta1 share this shape) as plain JSON: several replicas
 * of one model, each a Workspace the set owns. crds/inferenceset/schema.ts is the schema.
 */
import type { Condition, LabelSelector, ObjectMeta } from "../core/types.ts";
import type { InferenceSpec, PartitionSpec, PerformanceMetric } from "../workspace/types.ts";
import type { InferenceSetConditionType, autoUpgradeStrategies, updateStrategyTypes } from "./constants.ts";

export interface InferenceSetTemplate {
  /** Labels and annotations copied onto every Workspace (kaito.sh/runtime, for one). */
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  resource?: {
    /** The GPU VM size of every replica; absent: the planner chooses. */
    instanceType?: string;
    partition?: PartitionSpec;
  };
  inference: InferenceSpec;
}

export interface InferenceSetSpec {
  /** Workspaces to run; 0 scales to zero. Defaults to 1. */
  replicas?: number;
  /** The labels of the replicas' GPU nodes: every Workspace's resource.labelSelector. */
  labelSelector: LabelSelector;
  template: InferenceSetTemplate;
  /** Most GPU nodes the replicas may use together; 0 or absent: no limit. */
  nodeCountLimit?: number;
  /** apps/v1 StatefulSetUpdateStrategy: how Workspaces are replaced when the template changes. */
  updateStrategy?: {
    type?: (typeof updateStrategyTypes)[number];
    rollingUpdate?: { maxUnavailable?: number | string; partition?: number };
  };
  /** KAITO's automatic base-image upgrades: accepted and reported, not acted on here. */
  autoUpgrade?: {
    enabled?: boolean;
    strategy?: (typeof autoUpgradeStrategies)[number];
    maintenanceWindow?: { schedule: string; duration?: string };
  };
}

export type InferenceSetCondition = Condition<InferenceSetConditionType>;

export interface InferenceSetStatus {
  /** Workspaces the set runs (the scale subresource's status.replicas). */
  replicas?: number;
  /** Of those, the ones whose WorkspaceReady is True. */
  readyReplicas?: number;
  /** The label selector of the replicas' Workspaces, for HPA and KEDA. */
  selector?: string;
  conditions?: InferenceSetCondition[];
  performance?: { metrics?: Record<string, PerformanceMetric> };
  /** GPU nodes the replicas use, counted once when they share one. */
  nodeCount?: number;
  /** The metadata.generation the status describes. */
  observedGeneration?: number;
}

export interface InferenceSet {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: InferenceSetSpec;
  status?: InferenceSetStatus;
}
