import {
  gpuMemoryLabel,
  gpuProductLabel,
  gpuResource,
  workspaceLabel,
  workspaceNamespaceLabel,
} from "./contract.ts";
import { field, isObject, path } from "./fields.ts";
import { parseQuantity } from "../kube/quantity.ts";

/** The workspace a node was provisioned for, or a pod belongs to. */
export interface WorkspaceRef {
  namespace?: string;
  name: string;
}

/** What the extender needs to know about a node, read once from the Node object. */
export interface GpuNode {
  name: string;
  /** Allocatable nvidia.com/gpu (0 when the node has none). */
  gpus: number;
  /** MiB per GPU from GPU Feature Discovery, when the node is labelled. */
  gpuMemoryMiB?: number;
  product?: string;
  /** Set when the node was provisioned for one workspace. */
  workspace?: WorkspaceRef;
}

/**
 * Reads a Node (a typed V1Node or untrusted JSON from kube-scheduler). Returns undefined when the
 * object has no name, since nothing can refer to it then.
 */
export function toGpuNode(node: unknown): GpuNode | undefined {
  const metadata = field(node, "metadata");
  const name = field(metadata, "name");
  if (typeof name !== "string" || name === "") return undefined;
  const labels = field(metadata, "labels");
  const label = (key: string): string | undefined => {
    const v = isObject(labels) ? labels[key] : undefined;
    return typeof v === "string" ? v : undefined;
  };
  const allocatable = path(node, "status", "allocatable");
  const gpus = parseQuantity(isObject(allocatable) ? allocatable[gpuResource] : undefined) ?? 0;
  const out: GpuNode = { name, gpus: Math.max(0, Math.floor(gpus)) };
  const memory = parsePositiveInt(label(gpuMemoryLabel));
  if (memory !== undefined) out.gpuMemoryMiB = memory;
  const product = label(gpuProductLabel);
  if (product) out.product = product;
  const workspace = label(workspaceLabel);
  if (workspace) {
    const namespace = label(workspaceNamespaceLabel);
    out.workspace = namespace ? { namespace, name: workspace } : { name: workspace };
  }
  return out;
}

export function parsePositiveInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  const n = Number(value);
  return n > 0 && Number.isSafeInteger(n) ? n : undefined;
}
