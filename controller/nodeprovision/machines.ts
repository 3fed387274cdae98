import {
  capacityTypeLabel,
  instanceTypeLabel,
  machineApiVersion,
  machineKind,
  type Machine,
  type Workspace,
} from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { findCondition } from "../../kube/conditions.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { Informer } from "../../kube/informer.ts";
import { resources as api } from "../../kube/resources.ts";
import { launchOf, type ClaimKind } from "./claims.ts";
import { ClaimProvisioner } from "./claim-provisioner.ts";
import { gpuTaint, nodeLabelsFor, ownerLabels } from "./labels.ts";
import type { SharedNodeUsers } from "./sharing.ts";
import { capacityFailureReasons, type NodeLaunch, type NodeRequest } from "./types.ts";

/** The instance type a Machine asks for. */
export function machineInstanceType(m: Machine): string | undefined {
  return m.spec?.requirements?.find((r) => r.key === instanceTypeLabel)?.values?.[0];
}

/**
 * The Machine for one node, in the shape the Azure gpu-provisioner's Machine releases (<= v0.2.1,
 * pkg/providers/instance/instance.go) accept, so it can serve them instead of ours: a name of at
 * most 11 lower-case letters and digits (naming.ts), the owner labels it filters on
 * (`kaito.sh/workspace`, `kaito.sh/workspacenamespace`) plus the workspace's node labels, which it
 * copies onto the node; the instance type as the first value of its requirement; the taint; the
 * GPUs and a `storage` request for the OS disk; machineTemplateRef named like the Machine, as
 * KAITO's Machine-era writer did (pkg/machine/machine.go), since gpu-provisioner's early releases
 * took the agent-pool name from it. No `kubernetes.io/hostname` label: the node's name is the
 * provisioner's to choose (an AKS node is `aks-<pool>-...-vmss000000`), and the node is found by
 * the Machine's status.nodeName.
 */
export function desiredMachine(ws: Workspace, request: NodeRequest, name: string): Machine {
  return {
    apiVersion: machineApiVersion,
    kind: machineKind,
    metadata: { name, labels: { ...nodeLabelsFor(ws), ...ownerLabels(ws) } },
    spec: {
      requirements: [
        { key: instanceTypeLabel, operator: "In", values: [request.instanceType] },
        { key: capacityTypeLabel, operator: "In", values: ["on-demand"] },
      ],
      resources: {
        requests: { "nvidia.com/gpu": String(request.gpusPerNode), storage: `${request.osDiskGiB}Gi` },
      },
      taints: [{ ...gpuTaint }],
      machineTemplateRef: { name },
    },
  };
}

export const machineClaimKind: ClaimKind<Machine & KubeObject> = {
  kind: "Machine",
  resource: api.machines,
  desired: desiredMachine,
  instanceType: machineInstanceType,
  readyNode: (m) =>
    findCondition(m.status?.conditions, "Ready")?.status === "True" ? m.status?.nodeName : undefined,
  failure(m) {
    const launched = findCondition(m.status?.conditions, "MachineLaunched");
    if (launched?.status !== "False" || !capacityFailureReasons.has(launched.reason ?? "")) return undefined;
    return {
      reason: launched.reason!,
      message: launched.message ?? `${launched.reason} for ${machineInstanceType(m) ?? "?"}`,
    };
  },
  launch(m) {
    const c = findCondition(m.status?.conditions, "MachineLaunched");
    return { launched: c?.status, launchedAt: c?.lastTransitionTime };
  },
};

/**
 * `builtin`: Machines (karpenter.sh/v1alpha5), served by kaito's own provisioner with its cloud
 * backend (`--cloud local|azure`), or by gpu-provisioner <= v0.2.1 in its place. Launch failures
 * are the Machine's MachineLaunched=False with a capacity reason.
 */
export class MachineProvisioner extends ClaimProvisioner<Machine & KubeObject> {
  readonly mode = "builtin" as const;
  readonly kind = "Machine";

  constructor(o: {
    client: KubeClient;
    recorder: EventRecorder;
    machines: Informer<Machine & KubeObject>;
    users?: SharedNodeUsers;
  }) {
    super({
      kind: machineClaimKind,
      client: o.client,
      recorder: o.recorder,
      cache: o.machines,
      users: o.users,
    });
  }
}

/** A Machine as quota accounting reads it. */
export function launchOfMachine(m: Machine): NodeLaunch {
  return launchOf(machineClaimKind, m as Machine & KubeObject);
}
