/**
 * kaito.sh Workspace (v1alpha1 and v1beta1 share this shape) as plain JSON. resource, inference and tuning sit at the top level
 * of the object (there is no spec), as in KAITO. crds/workspace/schema.ts is the schema the API
 * server enforces; crds/workspace/types.test.ts proves the two describe the same fields.
 */
import type { Condition, LabelSelector, ObjectMeta } from "../core/types.ts";
import type {
  AccessMode,
  PartitionMode,
  TuningMethod,
  WorkspaceConditionType,
  WorkspaceState,
} from "./constants.ts";

export interface ResourceSpec {
  /** The GPU VM size. Absent: the planner picks the cheapest size that fits the preset. */
  instanceType?: string;
  /** GPU nodes to run on, at least 1; defaults to 1. */
  count?: number;
  /** Labels of the GPU nodes; nodes created for the Workspace get its matchLabels. */
  labelSelector: LabelSelector;
  /** Existing nodes to use first; those without the selector's labels are ignored. */
  preferredNodes?: string[];
  /** GPU slices instead of whole GPUs (KAITO v1beta1); bring-your-own nodes only. */
  partition?: PartitionSpec;
}

export interface PartitionSpec {
  mode: PartitionMode;
  /** E.g. "1g.10gb" for MIG. */
  profile?: string;
}

export interface PresetOptions {
  /** The model image, for private access mode. */
  image?: string;
  /** Secrets in the Workspace's namespace for pulling the model image. */
  imagePullSecrets?: string[];
  /** A Secret whose HF_TOKEN key holds the Hugging Face token for gated weights (KAITO v1beta1's field). */
  modelAccessSecret?: string;
}

export interface PresetSpec {
  /** A preset of the model catalogue, e.g. phi-3-mini-4k-instruct. */
  name: string;
  /** Whether the model image comes from the public registry (default) or presetOptions.image. */
  accessMode?: AccessMode;
  presetOptions?: PresetOptions;
}

/** Where data comes from: exactly one of urls, image or volumeSource. */
export interface DataSource {
  /** Also the name of the container that fetches the data; a DNS subdomain. */
  name?: string;
  urls?: string[];
  /** An image with the data under /data, as registry/repository:tag. */
  image?: string;
  /** A core/v1 VolumeSource, kept as sent. */
  volumeSource?: Record<string, unknown>;
  imagePullSecrets?: string[];
}

/** Where tuning output goes: an image (with a push secret) or a volume. */
export interface DataDestination {
  image?: string;
  /** The Secret that can push to image's registry; required with image. */
  imagePushSecret?: string;
  /** A core/v1 VolumeSource, kept as sent. */
  volumeSource?: Record<string, unknown>;
}

export interface AdapterSpec {
  source?: DataSource;
  /** How strongly the adapter's weights apply: a decimal string in [0, 1]; defaults to "1.0". */
  strength?: string;
}

export interface InferenceSpec {
  /** The model to serve with its preset configuration; exclusive with template. */
  preset?: PresetSpec;
  /** A core/v1 PodTemplateSpec to run instead of a preset, kept as sent. */
  template?: Record<string, unknown>;
  /** A ConfigMap in the Workspace's namespace with inference arguments. */
  config?: string;
  adapters?: AdapterSpec[];
}

export interface TuningSpec {
  /** The base model to tune. */
  preset?: PresetSpec;
  method?: TuningMethod;
  /** A ConfigMap in the Workspace's namespace with tuning arguments; absent: the method's default. */
  config?: string;
  input?: DataSource;
  output?: DataDestination;
}

export type WorkspaceCondition = Condition<WorkspaceConditionType>;

/** The layout of a workspace's workload on nodes. */
export interface WorkspacePlacement {
  instanceType?: string;
  replicas?: number;
  gpusPerPod?: number;
  nodesPerReplica?: number;
  newNodes?: number;
  existingNodes?: string[];
  /**
   * Nodes this workspace shares with others of the same labels, by their Machine or NodeClaim:
   * launched for a workspace planned in the same batch, or found with free GPUs by a later plan.
   */
  sharedNodes?: SharedNode[];
}

export interface SharedNode {
  /** The Machine's or NodeClaim's name (cluster-scoped); its node is found through it. */
  name: string;
  /**
   * namespace/name of the Workspace that launched it (or was to) when the plan was made: read
   * only while the object does not exist yet. Its owner is whoever its kaito.sh/workspace labels
   * name, which changes when that workspace is deleted and hands the node over.
   */
  launchedBy: string;
}

/** Written by the controller only (status subresource). */
export interface WorkspaceStatus {
  conditions?: WorkspaceCondition[];
  /** The nodes the workload runs on. */
  workerNodes?: string[];
  /** The VM size in use: resource.instanceType, or the planner's choice when that is absent. */
  instanceType?: string;
  /** Nodes in use, existing ones included. */
  nodeCount?: number;
  /** The Machines created for this Workspace. */
  machines?: string[];
  /** The hourly price of the nodes created for this Workspace, in USD, as a decimal string. */
  costPerHour?: string;
  /** Instance types whose launch failed for lack of capacity or quota; replans avoid them. */
  failedInstanceTypes?: string[];
  /** How the workload is laid out on nodes, kept so the planner's choice stays stable. */
  placement?: WorkspacePlacement;
  /** The metadata.generation the status describes. */
  observedGeneration?: number;
  /** KAITO v1beta1's one-word summary of the conditions. */
  state?: WorkspaceState;
  /** GPU nodes the workload needs, existing ones included (KAITO v1beta1). */
  targetNodeCount?: number;
  /** Benchmark results by metric name (KAITO v1beta1); kaito-ts does not run the benchmark. */
  performance?: { metrics?: Record<string, PerformanceMetric> };
}

export interface PerformanceMetric {
  description: string;
  value: string;
  unit?: string;
  config?: Record<string, string>;
}

export interface Workspace {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  resource: ResourceSpec;
  inference?: InferenceSpec;
  tuning?: TuningSpec;
  status?: WorkspaceStatus;
}
