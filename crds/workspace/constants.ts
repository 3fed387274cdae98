/** API coordinates of kaito.sh/v1alpha1 Workspace: the same group, version and names as KAITO. */
export const workspaceGroup = "kaito.sh";
export const workspaceVersion = "v1alpha1";
export const workspaceApiVersion = `${workspaceGroup}/${workspaceVersion}`;
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
