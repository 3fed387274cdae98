import { parseQuantity } from "./quantity.ts";

/** The GPU resource every component counts. */
export const gpuResource = "nvidia.com/gpu";

/**
 * Reads `obj[key]` of untrusted JSON. The default matches keys exactly, as the API server writes
 * them; the extender passes its case-insensitive reader (scheduler/fields.ts), as kube-scheduler's
 * Go decoder reads what it is sent.
 */
export type FieldReader = (obj: unknown, key: string) => unknown;

const exactField: FieldReader = (obj, key) =>
  typeof obj === "object" && obj !== null && !Array.isArray(obj)
    ? (obj as Record<string, unknown>)[key]
    : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function containerGpus(container: unknown, field: FieldReader): number {
  const resources = field(container, "resources");
  // The API server defaults a missing request to the limit (an extended resource's limit implies
  // an equal request); a pod not yet defaulted, or one a test wrote, may carry only the limit.
  const value =
    field(field(resources, "requests"), gpuResource) ?? field(field(resources, "limits"), gpuResource);
  return Math.max(0, parseQuantity(value) ?? 0);
}

/**
 * The GPUs a pod holds on its node, the one rule every component counts with (the extender's
 * free GPUs, the controller's reusable nodes, the kaito_gpu_allocated gauge, the shared pod
 * cache's scope). It is kube-scheduler's effective request (the Kubernetes docs' "Resource sharing
 * within containers" and "Sidecar containers"): the sum over app containers and sidecars (init
 * containers with restartPolicy Always), at least the largest one-shot init container plus the
 * sidecars started before it, plus the pod overhead. Reads a typed Pod or untrusted JSON; what it
 * cannot parse counts as 0.
 */
export function podGpuRequest(pod: unknown, field: FieldReader = exactField): number {
  const spec = field(pod, "spec");
  let total = 0;
  for (const c of list(field(spec, "containers"))) total += containerGpus(c, field);
  let sidecars = 0;
  let initPeak = 0;
  for (const c of list(field(spec, "initContainers"))) {
    const gpus = containerGpus(c, field);
    if (field(c, "restartPolicy") === "Always") {
      total += gpus;
      sidecars += gpus;
      initPeak = Math.max(initPeak, sidecars);
    } else {
      initPeak = Math.max(initPeak, gpus + sidecars);
    }
  }
  total = Math.max(total, initPeak);
  total += Math.max(0, parseQuantity(field(field(spec, "overhead"), gpuResource)) ?? 0);
  return total;
}
