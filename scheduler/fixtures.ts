// Node and Pod objects for tests and the benchmark, shaped as the API server returns them.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import {
  gpuCountLabel,
  gpuMemoryLabel,
  gpuProductLabel,
  gpuResource,
  minGpuMemoryAnnotation,
  plannedNodesAnnotation,
  workspaceLabel,
  workspaceNamespaceLabel,
} from "./contract.ts";

export interface NodeSpec {
  name: string;
  gpus?: number;
  gpuMemoryMiB?: number;
  product?: string;
  labels?: Record<string, string>;
  /** Marks the node as provisioned for this workspace ("ns/name" or "name"). */
  workspace?: string;
}

/** A GPU node as kwok reports it: GFD labels, capacity = allocatable, Ready. */
export function nodeObject(spec: NodeSpec): V1Node {
  const gpus = spec.gpus ?? 8;
  const labels: Record<string, string> = {
    "kubernetes.io/hostname": spec.name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
    "node.kubernetes.io/instance-type": gpus >= 8 ? "Standard_ND96asr_v4" : "Standard_NC96ads_A100_v4",
    "topology.kubernetes.io/zone": "eastus-1",
    "kubernetes.azure.com/accelerator": "nvidia",
    [gpuCountLabel]: String(gpus),
    [gpuProductLabel]: spec.product ?? "NVIDIA-A100-SXM4-80GB",
    ...(spec.gpuMemoryMiB === undefined
      ? { [gpuMemoryLabel]: "81920" }
      : { [gpuMemoryLabel]: String(spec.gpuMemoryMiB) }),
    ...spec.labels,
  };
  if (spec.workspace) {
    const [ns, name] = spec.workspace.includes("/") ? spec.workspace.split("/") : [undefined, spec.workspace];
    labels[workspaceLabel] = name!;
    if (ns) labels[workspaceNamespaceLabel] = ns;
  }
  const resources = {
    cpu: "96",
    memory: "880Gi",
    pods: "110",
    "ephemeral-storage": "256Gi",
    [gpuResource]: String(gpus),
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: spec.name,
      uid: `uid-${spec.name}`,
      resourceVersion: "1",
      labels,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    },
    spec: { providerID: `kwok://${spec.name}` },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: ["MemoryPressure", "DiskPressure", "PIDPressure"]
        .map((type) => ({ type, status: "False", reason: `Kubelet Has No ${type}`, message: "ok" }))
        .concat([
          {
            type: "Ready",
            status: "True",
            reason: "KubeletReady",
            message: "kubelet is posting ready status",
          },
        ]),
      addresses: [
        { type: "InternalIP", address: "10.0.0.1" },
        { type: "Hostname", address: spec.name },
      ],
      nodeInfo: {
        architecture: "amd64",
        bootID: "",
        containerRuntimeVersion: "kwok",
        kernelVersion: "kwok",
        kubeProxyVersion: "kwok",
        kubeletVersion: "kwok",
        machineID: "",
        operatingSystem: "linux",
        osImage: "kwok",
        systemUUID: "",
      },
      phase: "Running",
    },
  };
}

export interface PodSpec {
  name: string;
  namespace?: string;
  uid?: string;
  gpus?: number;
  nodeName?: string;
  workspace?: string;
  workspaceNamespace?: string;
  minGpuMemoryMiB?: number | string;
  plannedNodes?: string[];
  phase?: string;
}

export function podObject(spec: PodSpec): V1Pod {
  const labels: Record<string, string> = {};
  if (spec.workspace) labels[workspaceLabel] = spec.workspace;
  if (spec.workspaceNamespace) labels[workspaceNamespaceLabel] = spec.workspaceNamespace;
  const annotations: Record<string, string> = {};
  if (spec.minGpuMemoryMiB !== undefined) annotations[minGpuMemoryAnnotation] = String(spec.minGpuMemoryMiB);
  if (spec.plannedNodes) annotations[plannedNodesAnnotation] = spec.plannedNodes.join(",");
  const gpus = spec.gpus ?? 1;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? "default",
      uid: spec.uid ?? `uid-${spec.name}`,
      labels,
      annotations,
    },
    spec: {
      containers: [
        {
          name: "model",
          image: "mcr.microsoft.com/aks/kaito/kaito-base:0.0.1",
          resources:
            gpus > 0
              ? { requests: { [gpuResource]: String(gpus) }, limits: { [gpuResource]: String(gpus) } }
              : {},
        },
      ],
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
    },
    status: { phase: spec.phase ?? (spec.nodeName ? "Running" : "Pending") },
  };
}
