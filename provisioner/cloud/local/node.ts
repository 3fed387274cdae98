// The Node a local-cloud instance is: what a real GPU VM's kubelet, the NVIDIA device plugin and
// GPU feature discovery would put on it, built from the Machine and the catalogue's SKU.
import {
  instanceTypeLabel,
  zoneLabel,
  type Machine,
  type ResourceList,
  type Taint,
} from "../../../crds/index.ts";
import { kwokNodeAnnotation } from "../../../localcluster/components.ts";
import type { Sku } from "../../../planner/catalog/index.ts";
import type { Node } from "../../kube-types.ts";
import { requiredLabels } from "../../requirements.ts";
import type { Instance } from "../types.ts";

export const localProviderPrefix = "kwok://";
/** Marks the Nodes this backend created: list() and garbage collection see only these. */
export const localInstanceLabel = "kaito.sh/local-instance";
/** The Machine a local instance was created for. */
export const machineNameLabel = "kaito.sh/machine";
/**
 * Present while the simulated boot runs, holding when it ends (RFC 3339 with milliseconds).
 * localcluster/kwok-stages.yaml keeps a node that carries it NotReady; removing it ends the boot.
 * It outlives a restart of the manager, which finishes the boots that fell due meanwhile.
 */
export const bootAnnotation = "kaito.sh/booting-until";
/** The startup taints the node booted with, which the simulated node daemons remove at boot. */
export const startupTaintsAnnotation = "kaito.sh/startup-taints";
/** A node whose boot never ends, so it stays NotReady (fault injection). */
export const neverBootsAnnotation = "kaito.sh/never-boots";
export const regionLabel = "topology.kubernetes.io/region";
export const acceleratorLabel = "kubernetes.azure.com/accelerator";
export const gpuProductLabel = "nvidia.com/gpu.product";
export const gpuCountLabel = "nvidia.com/gpu.count";
/** MiB of memory per GPU, as GPU feature discovery reports it. */
export const gpuMemoryLabel = "nvidia.com/gpu.memory";
export const gpuResource = "nvidia.com/gpu";

export function providerIdOf(name: string): string {
  return `${localProviderPrefix}${name}`;
}

/** The node name in a local providerID, or undefined for another provider's id. */
export function nameOfProviderId(providerID: string): string | undefined {
  return providerID.startsWith(localProviderPrefix)
    ? providerID.slice(localProviderPrefix.length)
    : undefined;
}

/** What the VM has, as kubelet and the device plugin report it. */
export function skuCapacity(sku: Sku, maxPods = 110): ResourceList {
  return {
    cpu: String(sku.vcpus),
    memory: `${sku.memoryGiB}Gi`,
    pods: String(maxPods),
    ...(sku.gpus > 0 ? { [gpuResource]: String(sku.gpus) } : {}),
  };
}

/** The labels GPU feature discovery and AKS put on a GPU node of this SKU. */
export function gpuLabels(sku: Sku): Record<string, string> {
  if (sku.gpus <= 0) return {};
  const product = `NVIDIA-${sku.gpuModel.trim().replace(/\s+/g, "-")}-${sku.gpuMemoryGiB}GB`;
  return {
    [acceleratorLabel]: "nvidia",
    [gpuProductLabel]: product.slice(0, 63),
    [gpuCountLabel]: String(sku.gpus),
    [gpuMemoryLabel]: String(Math.round(sku.gpuMemoryGiB * 1024)),
  };
}

export interface NodeInput {
  machine: Machine;
  sku: Sku;
  /** The instance type as the Machine spelled it (ARM compares SKU names case-insensitively). */
  instanceType: string;
  zone: string;
  region: string;
  /** When the boot finishes, ms since the epoch. */
  bootAt: number;
  neverBoots?: boolean;
}

/**
 * The Node of a freshly launched instance: labelled, tainted, with its capacity and kwok's
 * annotation (kwok only adopts a node when it first sees it), and booting, so it stays NotReady
 * until the simulated boot ends.
 */
export function buildNode(i: NodeInput): Node {
  const name = i.machine.metadata!.name!;
  const startupTaints: Taint[] = i.machine.spec?.startupTaints ?? [];
  const labels: Record<string, string> = {
    ...requiredLabels(i.machine),
    "kubernetes.io/hostname": name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    [instanceTypeLabel]: i.instanceType,
    [zoneLabel]: i.zone,
    [regionLabel]: i.region,
    ...gpuLabels(i.sku),
    [localInstanceLabel]: "true",
    [machineNameLabel]: name,
  };
  const annotations: Record<string, string> = {
    [kwokNodeAnnotation]: "fake",
    [bootAnnotation]: new Date(i.bootAt).toISOString(),
  };
  if (startupTaints.length > 0) annotations[startupTaintsAnnotation] = JSON.stringify(startupTaints);
  if (i.neverBoots) annotations[neverBootsAnnotation] = "true";
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels, annotations },
    spec: {
      providerID: providerIdOf(name),
      taints: [...(i.machine.spec?.taints ?? []), ...startupTaints].map(({ key, value, effect }) => ({
        key,
        ...(value !== undefined ? { value } : {}),
        effect,
      })),
    },
    status: { capacity: skuCapacity(i.sku) },
  };
}

/** The instance a local Node stands for. */
export function instanceFromNode(node: Node): Instance {
  const labels = node.metadata?.labels ?? {};
  const name = node.metadata?.name ?? "";
  return {
    providerID: node.spec?.providerID ?? providerIdOf(name),
    machineName: labels[machineNameLabel] ?? name,
    instanceType: labels[instanceTypeLabel] ?? "",
    zone: labels[zoneLabel] ?? "",
    capacity: { ...(node.status?.capacity ?? {}) },
    labels: { ...labels },
    createdAt: Date.parse(node.metadata?.creationTimestamp ?? "") || 0,
  };
}

/** When the node's boot ends; undefined when it has ended or never will. */
export function bootDueAt(node: Node): number | undefined {
  const a = node.metadata?.annotations ?? {};
  if (a[neverBootsAnnotation] === "true") return undefined;
  const due = Date.parse(a[bootAnnotation] ?? "");
  return Number.isNaN(due) ? undefined : due;
}

/** The node as its boot leaves it: no longer booting, and without the startup taints its daemons remove. */
export function bootedNode(node: Node): Node {
  const annotations = { ...node.metadata?.annotations };
  delete annotations[bootAnnotation];
  delete annotations[startupTaintsAnnotation];
  return {
    ...node,
    metadata: { ...node.metadata, annotations },
    spec: { ...node.spec, taints: taintsAfterBoot(node) },
  };
}

/** The node's taints without the startup taints it booted with. */
export function taintsAfterBoot(node: Node): Taint[] {
  let startup: Taint[] = [];
  try {
    startup = JSON.parse(node.metadata?.annotations?.[startupTaintsAnnotation] ?? "[]") as Taint[];
  } catch {
    // A hand-edited annotation: keep every taint rather than guess.
  }
  return (node.spec?.taints ?? []).filter(
    (t) =>
      !startup.some((s) => s.key === t.key && s.effect === t.effect && (s.value ?? "") === (t.value ?? "")),
  );
}
