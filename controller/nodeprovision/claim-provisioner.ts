import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { Informer } from "../../kube/informer.ts";
import { ClaimSet, objectUsers, type ClaimSetOptions } from "./claims.ts";
import type { SharedNodeUsers } from "./sharing.ts";
import type { NodeProvisioner, NodeProvisionerMode, NodeRequest } from "./types.ts";

/**
 * What the modes that write one object per node (Machines, NodeClaims) have in common: the
 * objects of every workspace as a ClaimSet, watched through their informer, each mapped back to
 * its owner and the workspaces that share its node. A mode adds its name, its kind and the shape
 * of its objects (the ClaimKind it passes in).
 */
export abstract class ClaimProvisioner<T extends KubeObject> implements NodeProvisioner {
  abstract readonly mode: NodeProvisionerMode;
  abstract readonly kind: string;
  readonly createsNodes = true;
  readonly watched: Informer<KubeObject>;
  private readonly set: ClaimSet<T>;
  private readonly users: SharedNodeUsers | undefined;

  protected constructor(o: ClaimSetOptions<T>) {
    // The controller only reads the watched objects' metadata: any T is a KubeObject to it.
    this.watched = o.cache as unknown as Informer<KubeObject>;
    this.users = o.users;
    this.set = new ClaimSet(o);
  }

  /** Its owner, and the workspaces that share its node (they wait for it too). */
  workspacesOf(obj: KubeObject): string[] {
    return objectUsers(obj, this.users);
  }
  reconcile(ws: Workspace, request: NodeRequest) {
    return this.set.reconcile(ws, request);
  }
  clearFailed(ws: Workspace) {
    return this.set.clearFailed(ws);
  }
  delete(ws: Workspace) {
    return this.set.delete(ws);
  }
  launches() {
    return this.set.launches();
  }
}
