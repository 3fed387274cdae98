/**
 * The few core/v1 fields the provisioner reads and writes, as the plain JSON the API server
 * sends (client-node's generated classes would turn timestamps into Dates).
 */
import type { KubeObject } from "../kube/client.ts";
import type { ResourceList, Taint } from "../crds/index.ts";

export interface NodeCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Node extends KubeObject {
  spec?: { providerID?: string; taints?: Taint[]; unschedulable?: boolean };
  status?: { capacity?: ResourceList; allocatable?: ResourceList; conditions?: NodeCondition[] };
}

export interface ContainerResources {
  requests?: ResourceList;
  limits?: ResourceList;
}

export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    containers?: { name: string; resources?: ContainerResources }[];
    initContainers?: { name: string; resources?: ContainerResources; restartPolicy?: string }[];
  };
  status?: { phase?: string };
}

/** The taint kube-controller-manager and cloud providers put on nodes that are not usable yet. */
export const ephemeralTaintKeys = [
  "node.kubernetes.io/not-ready",
  "node.kubernetes.io/unreachable",
  "node.cloudprovider.kubernetes.io/uninitialized",
] as const;

/** Whether the node's Ready condition is True (any node shape: ours, or client-node's V1Node). */
export function isNodeReady(node: {
  status?: { conditions?: readonly { type: string; status: string }[] };
}): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** Same key and effect (and value, when the wanted taint has one): how kubelet matches taints too. */
export function hasTaint(taints: readonly Taint[] | undefined, wanted: Taint): boolean {
  return (taints ?? []).some(
    (t) => t.key === wanted.key && t.effect === wanted.effect && (wanted.value ?? "") === (t.value ?? ""),
  );
}
