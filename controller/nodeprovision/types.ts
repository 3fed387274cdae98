import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { Informer } from "../../kube/informer.ts";

/**
 * How a workspace gets its nodes (`--node-provisioner`). The last three are KAITO v0.12's names
 * and meanings (cmd/workspace/main.go).
 */
export const nodeProvisionerModes = ["builtin", "karpenter", "azure-gpu-provisioner", "byo"] as const;
export type NodeProvisionerMode = (typeof nodeProvisionerModes)[number];

export function isNodeProvisionerMode(s: string): s is NodeProvisionerMode {
  return (nodeProvisionerModes as readonly string[]).includes(s);
}

/** What the workspace's placement asks of node provisioning. */
export interface NodeRequest {
  instanceType: string;
  /** Nodes to create for it. */
  newNodes: number;
  /** Nodes that exist already and take replicas at no new cost. */
  existingNodes: readonly string[];
  /** nvidia.com/gpu of one new node of the instance type. */
  gpusPerNode: number;
  /** The OS disk each new node asks for (the `storage` request). */
  osDiskGiB: number;
  /**
   * Machines or NodeClaims, by name, that the workspace shares with others (status.placement
   * .sharedNodes): whoever owns one, it is waited for and its node joins the workspace's; one the
   * workspace owns (launched for it, or handed over to it) is kept, never deleted as unplanned.
   */
  shared?: readonly string[];
}

/** Where a workspace's nodes stand after a reconcile. */
export type ResourceState =
  | { kind: "ready"; nodes: string[]; machines: string[] }
  | { kind: "waiting"; ready: number; wanted: number; machines: string[] }
  | { kind: "launchFailed"; instanceType: string; reason: string; message: string; machines: string[] };

/**
 * A node launch, whatever object stands for it: what quota accounting reads
 * (controller/workspace/offering.ts subtracts other workspaces' launches still in flight).
 */
export interface NodeLaunch {
  /** The Machine's or NodeClaim's name. */
  name: string;
  /** `namespace/name` of the workspace the object belongs to. */
  workspace: string | undefined;
  /** The node it became, once its provisioner calls it Ready. */
  readyNode?: string;
  instanceType: string;
  deleting: boolean;
  /** The launch condition: MachineLaunched or Launched. */
  launched: "True" | "False" | "Unknown" | undefined;
  /** When the launch condition last changed. */
  launchedAt?: string;
}

/** Launch failures that mean "this size cannot be had now": replan (or back off), don't retry. */
export const capacityFailureReasons: ReadonlySet<string> = new Set([
  "InsufficientCapacity",
  "QuotaExceeded",
  "SkuNotAvailable",
  "AllocationFailed",
]);

/**
 * The seam between the Workspace reconciler and whatever makes its nodes, modelled on KAITO's
 * pkg/nodeprovision/provisioner.go (one interface, one implementation per mode, a factory). Every
 * implementation is level-triggered and idempotent: each call reads its informer's cache and
 * makes the cluster match, and may be called again after a crash at any point.
 */
export interface NodeProvisioner {
  readonly mode: NodeProvisionerMode;
  /** Whether plans may add nodes; false for byo, which only places on nodes that exist. */
  readonly createsNodes: boolean;
  /** The kind it writes, for events and messages ("Machine", "NodeClaim"); undefined for byo. */
  readonly kind: string | undefined;
  /**
   * The informer of the objects it writes, labelled with their workspace: the Workspace
   * controller watches it (and byo's, the Nodes, to retry when nodes change).
   */
  readonly watched: Informer<KubeObject>;
  /** Maps a watched object to the workspace keys to reconcile: its owner and those sharing it. */
  workspacesOf(obj: KubeObject): string[];
  /**
   * Makes the workspace's objects match the request: creates the missing ones under their
   * deterministic names, keeps the shared ones it owns, lets go of those no longer wanted (handed
   * over to a workspace that shares one, deleted otherwise: sharing.ts), and reports where the
   * nodes stand, shared ones included. A launch the provisioner reports as failed for capacity
   * comes back as `launchFailed` so the caller can replan on another size.
   */
  reconcile(ws: Workspace, request: NodeRequest): Promise<ResourceState>;
  /** Deletes a failed launch of a named size, so a fresh one is made once the back-off has passed. */
  clearFailed(ws: Workspace): Promise<void>;
  /**
   * Lets every object of the workspace go: one another live workspace shares is handed over to
   * it, the others are deleted (their nodes go with them); true once none is left with its labels.
   */
  delete(ws: Workspace): Promise<boolean>;
  /** Every launch of every workspace (the informer's cache). */
  launches(): NodeLaunch[];
}
