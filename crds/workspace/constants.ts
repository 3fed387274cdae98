/**
 * API coordinates of the Workspace: the same group, versions and names as KAITO. Served as
 * v1alpha1 (the seed's contract) and v1beta1 (KAITO v0.12's storage version), with one schema:
 * `workspaceVersion` is the stored one, which the controller reads and watches.
 */
export const workspaceGroup = "kaito.sh";
export const workspaceVersion = "v1beta1";
export const workspaceLegacyVersion = "v1alpha1";
export const workspaceVersions = [workspaceLegacyVersion, workspaceVersion] as const;
export const workspaceApiVersion = `${workspaceGroup}/${workspaceVersion}`;
export const workspaceApiVersions: readonly string[] = workspaceVersions.map((v) => `${workspaceGroup}/${v}`);
export const workspaceKind = "Workspace";
export const workspacePlural = "workspaces";
export const workspaceSingular = "workspace";
export const workspaceShortNames = ["wk", "wks"];
export const workspaceCrdName = `${workspacePlural}.${workspaceGroup}`;

/**
 * The condition types a Workspace reports. ResourceReady: the nodes it needs exist and are
 * ready; MachineReady: the Machines created for it are initialized; InferenceReady: the inference
 * workload has its replicas ready; JobStarted: the tuning Job is running; WorkspaceSucceeded: the
 * tuning Job completed; WorkspaceReady: the whole Workspace is usable (inference serving, or
 * tuning done); WorkspaceDeleting: cleanup is in progress.
 */
export const workspaceConditionTypes = [
  "ResourceReady",
  "MachineReady",
  "InferenceReady",
  "JobStarted",
  "WorkspaceSucceeded",
  "WorkspaceReady",
  "WorkspaceDeleting",
] as const;
export type WorkspaceConditionType = (typeof workspaceConditionTypes)[number];

/** On Machines, Nodes and workloads created for a Workspace: its name and its namespace. */
export const workspaceLabel = "kaito.sh/workspace";
export const workspaceNamespaceLabel = "kaito.sh/workspacenamespace";

/**
 * Selects the inference runtime of a Workspace: "vllm" (the default) or "transformers". The
 * admission webhook sets it to transformers on Workspaces created through v1alpha1, whose
 * documented route is POST /chat, unless the user named a runtime.
 */
export const runtimeAnnotation = "kaito.sh/runtime";
export const runtimeNames = ["vllm", "transformers"] as const;

/** "True" (exactly, as in KAITO) makes the inference Service a LoadBalancer. */
export const enableLoadBalancerAnnotation = "kaito.sh/enablelb";

export const tuningMethods = ["lora", "qlora"] as const;
export type TuningMethod = (typeof tuningMethods)[number];

export const accessModes = ["public", "private"] as const;
export type AccessMode = (typeof accessModes)[number];

/** The most adapters one inference Workspace may load, as in KAITO. */
export const maxAdapters = 10;

/** GPU partitioning modes of KAITO v1beta1's resource.partition. */
export const partitionModes = ["mig", "accelerator"] as const;
export type PartitionMode = (typeof partitionModes)[number];

/** KAITO v1beta1's status.state: Pending, then Ready/NotReady (inference) or Running/Succeeded/Failed (tuning). */
export const workspaceStates = ["Pending", "Ready", "NotReady", "Running", "Succeeded", "Failed"] as const;
export type WorkspaceState = (typeof workspaceStates)[number];
