/**
 * API coordinates of the InferenceSet, as KAITO serves it since v0.11: kaito.sh, v1alpha1 and
 * v1beta1 with one schema, stored as v1beta1 (KAITO's api/v1beta1/inferenceset_types.go).
 */
import { workspaceGroup } from "../workspace/constants.ts";

export const inferenceSetGroup = workspaceGroup;
export const inferenceSetVersion = "v1beta1";
export const inferenceSetLegacyVersion = "v1alpha1";
export const inferenceSetApiVersion = `${inferenceSetGroup}/${inferenceSetVersion}`;
export const inferenceSetKind = "InferenceSet";
export const inferenceSetPlural = "inferencesets";
export const inferenceSetSingular = "inferenceset";
export const inferenceSetShortNames = ["is", "isets"];
export const inferenceSetCrdName = `${inferenceSetPlural}.${inferenceSetGroup}`;

/**
 * On each Workspace an InferenceSet creates: the set's name. KAITO's label
 * (pkg/utils/consts: WorkspaceCreatedByInferenceSetLabel), so status.selector reads the same.
 */
export const inferenceSetCreatedByLabel = "inferenceset.kaito.sh/created-by";

/**
 * The condition types an InferenceSet reports. InferenceSetReady: every replica asked for is a
 * ready Workspace (KAITO's type); InferenceSetDeleting: its Workspaces are being deleted.
 */
export const inferenceSetConditionTypes = ["InferenceSetReady", "InferenceSetDeleting"] as const;
export type InferenceSetConditionType = (typeof inferenceSetConditionTypes)[number];

/**
 * An InferenceSet's name plus "-<replica index>" names its Workspaces, which must stay DNS labels
 * of at most 63 characters: the index takes up to 4 digits and the dash.
 */
export const inferenceSetNameMax = 58;

export const updateStrategyTypes = ["RollingUpdate", "OnDelete"] as const;
export const autoUpgradeStrategies = ["InPlace", "Surge"] as const;
