/**
 * The labels, annotations and resource names the extender reads. Other components write them
 * (the planner, the controller's pod templates, the cloud backends, NVIDIA GPU Feature
 * Discovery), so these strings are a contract, not an implementation detail.
 */
import { workspaceLabel, workspaceNamespaceLabel } from "../crds/workspace/constants.ts";

export { workspaceLabel, workspaceNamespaceLabel };

/** The extended resource the NVIDIA device plugin advertises; node allocatable is the capacity. */
export const gpuResource = "nvidia.com/gpu";

/** GPU Feature Discovery node labels: MiB of memory per GPU, the GPU model, and the GPU count. */
export const gpuMemoryLabel = "nvidia.com/gpu.memory";
export const gpuProductLabel = "nvidia.com/gpu.product";
export const gpuCountLabel = "nvidia.com/gpu.count";

/** On a pod: the per-GPU memory, in MiB, that the model needs (a positive integer). */
export const minGpuMemoryAnnotation = "kaito.sh/min-gpu-memory-mib";

/** On a pod: comma-separated names of the nodes the planner chose for the pod's workspace. */
export const plannedNodesAnnotation = "kaito.sh/planned-nodes";

/** The extender's HTTP port (DESIGN.md: "Ports and metrics"). */
export const defaultExtenderPort = 8888;

/** Score bounds of k8s.io/kube-scheduler/extender/v1 (MinExtenderPriority, MaxExtenderPriority). */
export const minExtenderScore = 0;
export const maxExtenderScore = 10;
