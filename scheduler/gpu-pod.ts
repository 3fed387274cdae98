import {
  minGpuMemoryAnnotation,
  plannedNodesAnnotation,
  workspaceLabel,
  workspaceNamespaceLabel,
} from "./contract.ts";
import { field, isObject } from "./fields.ts";
import { parsePositiveInt, type WorkspaceRef } from "./gpu-node.ts";
import { podGpuRequest } from "../kube/gpu-request.ts";

/** What the extender needs to know about a pod, read once per request or watch event. */
export interface GpuPod {
  /** namespace/name */
  key: string;
  uid: string;
  /** Effective nvidia.com/gpu request, as kube-scheduler computes it (kube/gpu-request.ts). */
  gpus: number;
  /** Per-GPU memory the model needs, in MiB. */
  minGpuMemoryMiB?: number;
  workspace?: WorkspaceRef;
  plannedNodes: ReadonlySet<string>;
  /** The node it is bound to (spec.nodeName), if any. */
  nodeName?: string;
  /** Succeeded or Failed: it holds no GPUs any more. */
  terminated: boolean;
  /** Why the pod's own kaito annotations cannot be honoured; every node fails with this. */
  invalid?: string;
}

/** Reads a Pod (typed or untrusted JSON). Returns undefined when it has no metadata.name. */
export function toGpuPod(pod: unknown): GpuPod | undefined {
  const metadata = field(pod, "metadata");
  const name = field(metadata, "name");
  if (typeof name !== "string" || name === "") return undefined;
  const namespaceValue = field(metadata, "namespace");
  const namespace = typeof namespaceValue === "string" && namespaceValue ? namespaceValue : "default";
  const uid = field(metadata, "uid");
  const spec = field(pod, "spec");
  const nodeName = field(spec, "nodeName");
  const phase = field(field(pod, "status"), "phase");
  const labels = field(metadata, "labels");
  const annotations = field(metadata, "annotations");
  const label = (k: string) => stringAt(labels, k);
  const annotation = (k: string) => stringAt(annotations, k);

  const out: GpuPod = {
    key: `${namespace}/${name}`,
    uid: typeof uid === "string" ? uid : "",
    gpus: podGpuRequest(pod, field),
    plannedNodes: plannedNodes(annotation(plannedNodesAnnotation)),
    terminated: phase === "Succeeded" || phase === "Failed",
  };
  if (typeof nodeName === "string" && nodeName) out.nodeName = nodeName;
  const workspace = label(workspaceLabel);
  if (workspace) out.workspace = { namespace: label(workspaceNamespaceLabel) || namespace, name: workspace };
  const memory = annotation(minGpuMemoryAnnotation);
  if (memory !== undefined) {
    const mib = parsePositiveInt(memory);
    if (mib === undefined)
      out.invalid = `pod annotation ${minGpuMemoryAnnotation} must be a positive integer (MiB), got "${memory}"`;
    else out.minGpuMemoryMiB = mib;
  }
  return out;
}

/** "ns/name" of a workspace, the key replicas are counted under. */
export function workspaceKey(ws: WorkspaceRef): string {
  return `${ws.namespace ?? ""}/${ws.name}`;
}

function stringAt(map: unknown, key: string): string | undefined {
  const v = isObject(map) ? map[key] : undefined;
  return typeof v === "string" ? v : undefined;
}

function plannedNodes(value: string | undefined): ReadonlySet<string> {
  if (!value) return emptySet;
  return new Set(
    value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}
const emptySet: ReadonlySet<string> = new Set();
