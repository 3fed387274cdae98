import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { objectKey, type Informer } from "../../kube/informer.ts";
import { InformerIndex } from "../../provisioner/index.ts";

/**
 * The workspaces that use node objects they do not own: a Machine or NodeClaim belongs to the
 * workspace its `kaito.sh/workspace` and `kaito.sh/workspacenamespace` labels name, and other
 * workspaces of the same labels may share its node, listing the object by name in
 * status.placement.sharedNodes (a batch planned together, or a later plan that found free GPUs
 * on it). Read from the Workspace cache, indexed by object name.
 */
export interface SharedNodeUsers {
  /** Keys (namespace/name) of every workspace whose placement lists the object, deleting or not. */
  keys(name: string): string[];
  /** The workspaces whose placement lists the object, from the cache. */
  guests(name: string): Workspace[];
}

/** SharedNodeUsers over the Workspace informer. */
export class WorkspaceSharedNodeUsers implements SharedNodeUsers {
  private readonly index: InformerIndex<Workspace & KubeObject>;

  constructor(workspaces: Informer<Workspace & KubeObject>) {
    this.index = new InformerIndex(workspaces, sharedNodeNames);
  }

  keys(name: string): string[] {
    return this.index.keys(name);
  }

  guests(name: string): Workspace[] {
    return this.index.get(name);
  }
}

/** The node objects a workspace's stored placement shares. */
export function sharedNodeNames(ws: Workspace): string[] {
  return [...new Set((ws.status?.placement?.sharedNodes ?? []).map((s) => s.name))];
}

/**
 * What becomes of an object its owner lets go (the owner is being deleted, or its plan no longer
 * has the node): handed over to a workspace that still uses it, or deleted when none does.
 */
export type Release = { kind: "handOver"; to: Workspace } | { kind: "delete" };

/**
 * The release of one object owned by `owner`: the live workspaces that list it (neither `owner`
 * nor being deleted) keep it, and it goes to the first of them by namespace/name, so every pass
 * (and a manager restarted half-way) chooses the same one. Without one it is deleted: its last
 * user is gone.
 */
export function releaseOf(owner: Workspace, guests: readonly Workspace[]): Release {
  const own = objectKey(owner);
  const live = guests
    .filter((g) => objectKey(g) !== own && !g.metadata?.deletionTimestamp)
    .sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0));
  return live.length ? { kind: "handOver", to: live[0]! } : { kind: "delete" };
}
