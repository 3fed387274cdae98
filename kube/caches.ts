import type { KubeObject } from "./client.ts";
import type { ObjectTransform } from "./informer.ts";

// The scopes of the caches several components share (the manager's informers are keyed by
// resource and scope, so one informer serves every component that asks with the same scope).
// They decide how a manager's memory grows: with the GPU pods and the nodes of the cluster, not
// with every pod, Deployment or Service in it.

export const gpuResource = "nvidia.com/gpu";

type Fields = Record<string, unknown>;
const asFields = (v: unknown): Fields | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Fields) : undefined;

function requestsGpus(container: unknown): boolean {
  const resources = asFields(asFields(container)?.resources);
  const wanted = asFields(resources?.requests)?.[gpuResource] ?? asFields(resources?.limits)?.[gpuResource];
  return wanted !== undefined && wanted !== "0" && wanted !== 0;
}

/** The object without metadata.managedFields, often half its size; nothing here reads them. */
function withoutManagedFields<T extends KubeObject>(o: T): T {
  if (!o.metadata || !("managedFields" in o.metadata)) return o;
  const { managedFields: _dropped, ...metadata } = o.metadata as unknown as Fields;
  return { ...o, metadata } as T;
}

/**
 * Pods that can hold GPUs: some container, init container or the overhead asks for
 * nvidia.com/gpu (a pod's resource requests never change, so a pod is in or out for life). The
 * extender counts these pods' GPUs on every node, the controller the GPUs left free on reusable
 * nodes, and the provisioner's kaito_gpu_allocated gauge the same, so they share this one cache.
 * Field selectors cannot filter on resources, so the API server still sends every pod event;
 * the cache keeps only these, without managedFields.
 */
export const gpuPods: ObjectTransform = {
  name: "gpu-pods",
  apply(pod) {
    const spec = asFields((pod as Fields).spec);
    const containers = [spec?.containers, spec?.initContainers].flatMap((c) => (Array.isArray(c) ? c : []));
    const gpus = containers.some(requestsGpus) || requestsGpus({ resources: { requests: spec?.overhead } });
    return gpus ? withoutManagedFields(pod) : undefined;
  },
};

/** Finished pods hold nothing; the API server leaves them out (one that finishes arrives as a delete). */
export const unfinishedPods = "status.phase!=Succeeded,status.phase!=Failed";

/** The shared pod cache's scope: unfinished pods that ask for GPUs. */
export const gpuPodScope = { fieldSelector: unfinishedPods, transform: gpuPods } as const;

/** The Ready condition without its heartbeat: the only condition any component reads. */
function readyCondition(conditions: unknown): Fields[] {
  if (!Array.isArray(conditions)) return [];
  return conditions
    .map(asFields)
    .filter((c): c is Fields => c?.type === "Ready")
    .map(({ lastHeartbeatTime: _heartbeat, ...c }) => c);
}

/**
 * Every node, but only what the components read: metadata without managedFields and the spec,
 * both whole (the provisioner writes nodes back from this cache with an update, which replaces
 * metadata and spec, keeps the server's managedFields when none are sent, and ignores status),
 * and of the status only capacity, allocatable and the Ready condition. Kubelets' image lists,
 * addresses, node info and other conditions, the bulk of a real node, are dropped. All nodes
 * stay: a Machine's node must be found by providerID before its GPUs show.
 */
export const trimmedNodes: ObjectTransform = {
  name: "trimmed-nodes",
  apply(node) {
    const status = asFields((node as Fields).status);
    if (!status) return withoutManagedFields(node);
    const kept: Fields = { conditions: readyCondition(status.conditions) };
    if (status.capacity !== undefined) kept.capacity = status.capacity;
    if (status.allocatable !== undefined) kept.allocatable = status.allocatable;
    return { ...withoutManagedFields(node), status: kept } as KubeObject;
  },
};

/** The shared node cache's scope. */
export const nodeScope = { transform: trimmedNodes } as const;
