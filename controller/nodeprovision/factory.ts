import type { V1Node } from "@kubernetes/client-node";
import type { Machine, NodeClaim, NodeClassReference, Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { nodeScope } from "../../kube/caches.ts";
import { resources as api } from "../../kube/resources.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { ByoProvisioner } from "./byo.ts";
import { ownedSelector } from "./labels.ts";
import { MachineProvisioner } from "./machines.ts";
import { NodeClaimProvisioner } from "./nodeclaims.ts";
import { WorkspaceSharedNodeUsers } from "./sharing.ts";
import type { NodeProvisioner, NodeProvisionerMode } from "./types.ts";

export interface NodeProvisionerConfig {
  mode: NodeProvisionerMode;
  /** The `karpenter` mode's node class (default: AKS Node Auto Provisioning's AKSNodeClass/default). */
  nodeClass?: NodeClassReference;
}

/** The NodeProvisioner of a mode, reading the manager's shared informers. */
export function createNodeProvisioner(
  config: NodeProvisionerConfig,
  deps: { manager: Manager; recorder: EventRecorder },
): NodeProvisioner {
  const { manager, recorder } = deps;
  const workspaces = manager.informer<Workspace & KubeObject>(api.workspaces);
  // Who shares a node object it does not own: waiting for it, and taking it over from its owner.
  const users = new WorkspaceSharedNodeUsers(workspaces);
  switch (config.mode) {
    case "builtin":
      return new MachineProvisioner({
        client: manager.client,
        recorder,
        machines: manager.informer<Machine & KubeObject>(api.machines),
        users,
      });
    case "karpenter":
    case "azure-gpu-provisioner":
      return new NodeClaimProvisioner({
        shape: config.mode,
        nodeClass: config.nodeClass,
        client: manager.client,
        recorder,
        clock: manager.clock,
        // Only kaito's claims: a cluster's Karpenter may hold thousands of others.
        nodeClaims: manager.informer<NodeClaim & KubeObject>(api.nodeClaims, {
          labelSelector: ownedSelector,
        }),
        users,
      });
    case "byo":
      return new ByoProvisioner({
        nodes: manager.informer<V1Node & KubeObject>(api.nodes, nodeScope),
        workspaces,
      });
  }
}
