import type { V1Node } from "@kubernetes/client-node";
import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { objectKey, type Informer } from "../../kube/informer.ts";
import { isNodeReady } from "../../provisioner/kube-types.ts";
import type { NodeProvisioner, NodeRequest, ResourceState } from "./types.ts";

/**
 * `byo` (KAITO's bring-your-own nodes, pkg/nodeprovision/byo-provisioner/): nothing is created or
 * deleted. Plans place replicas only on Ready GPU nodes that match the workspace's labelSelector
 * (controller/workspace/plan.ts); this reports whether the nodes of the plan are still Ready, and
 * wakes the workspaces that wait for nodes whenever a node changes, so one that did not fit is
 * planned again when a fitting node is added.
 */
export class ByoProvisioner implements NodeProvisioner {
  readonly mode = "byo" as const;
  readonly createsNodes = false;
  readonly kind = undefined;
  readonly watched: Informer<KubeObject>;
  private readonly nodes: Informer<V1Node & KubeObject>;
  private readonly workspaces: Pick<Informer<Workspace & KubeObject>, "list">;

  constructor(o: {
    nodes: Informer<V1Node & KubeObject>;
    workspaces: Pick<Informer<Workspace & KubeObject>, "list">;
  }) {
    this.nodes = o.nodes;
    this.watched = o.nodes as Informer<KubeObject>;
    this.workspaces = o.workspaces;
  }

  /** The workspaces still waiting for nodes, and those running on this one. */
  workspacesOf(obj: KubeObject): string[] {
    const name = obj.metadata?.name ?? "";
    return this.workspaces
      .list()
      .filter((ws) => {
        const resourceReady = ws.status?.conditions?.find((c) => c.type === "ResourceReady");
        return resourceReady?.status !== "True" || (ws.status?.workerNodes ?? []).includes(name);
      })
      .map((ws) => objectKey(ws));
  }

  async reconcile(_ws: Workspace, request: NodeRequest): Promise<ResourceState> {
    if (request.newNodes > 0)
      throw new Error(
        "byo provisions no nodes: the placement asked for new ones (a bug in the planner's inputs)",
      );
    const byName = new Map(this.nodes.list().map((n) => [n.metadata!.name!, n]));
    const up = request.existingNodes.filter((n) => {
      const node = byName.get(n);
      return node && isNodeReady(node) && !node.spec?.unschedulable && !node.metadata?.deletionTimestamp;
    });
    if (up.length === request.existingNodes.length) return { kind: "ready", nodes: [...up], machines: [] };
    return { kind: "waiting", ready: up.length, wanted: request.existingNodes.length, machines: [] };
  }

  async clearFailed(): Promise<void> {}

  async delete(): Promise<boolean> {
    return true;
  }

  launches() {
    return [];
  }
}
