/**
 * API coordinates of Karpenter's NodeClaim, karpenter.sh/v1, cluster-scoped. Its CRD is not ours:
 * it comes from the Karpenter module (kwok/charts/crds/karpenter.sh_nodeclaims.yaml in
 * sigs.k8s.io/karpenter), which scripts/control-plane-binaries.sh copies beside the Karpenter
 * binary; crds/ holds only the TypeScript types of the fields kaito writes and reads.
 */
export const nodeClaimGroup = "karpenter.sh";
export const nodeClaimVersion = "v1";
export const nodeClaimApiVersion = `${nodeClaimGroup}/${nodeClaimVersion}`;
export const nodeClaimKind = "NodeClaim";
export const nodeClaimPlural = "nodeclaims";

/**
 * Condition types Karpenter core sets on a NodeClaim (pkg/apis/v1/nodeclaim_status.go): Launched
 * once the cloud created the instance, Registered once its Node joined, Initialized once that Node
 * is Ready with its startup taints gone and its requested resources allocatable, Ready when all
 * three hold.
 */
export const nodeClaimConditionTypes = ["Launched", "Registered", "Initialized", "Ready"] as const;
export type NodeClaimConditionType = (typeof nodeClaimConditionTypes)[number];

/** The NodePool a NodeClaim belongs to; Karpenter disrupts and consolidates only claims that have one. */
export const nodePoolLabel = "karpenter.sh/nodepool";
/** "true" blocks Karpenter's voluntary disruption of the claim and its node (pkg/apis/v1/labels.go). */
export const doNotDisruptAnnotation = "karpenter.sh/do-not-disrupt";
/** Karpenter's event reason for a launch the cloud refused for capacity (pkg/events/reason.go). */
export const insufficientCapacityEventReason = "InsufficientCapacityError";
/** Karpenter's event reason for a launch refused because the NodeClass is not ready. */
export const nodeClassNotReadyEventReason = "NodeClassNotReady";
