// The GPU-aware kube-scheduler extender: public surface for the manager and the CLI.
export * from "./contract.ts";
export { apiServerBinder, type Binder, type BindTarget } from "./binder.ts";
export {
  MemoryClusterView,
  type Assumption,
  type ClusterView,
  type EventSource,
  type NodeUsage,
} from "./cluster-view.ts";
export { ExtenderRequestError, isExtenderRequestError } from "./errors.ts";
export { Extender } from "./extender.ts";
export { toGpuNode, type GpuNode, type WorkspaceRef } from "./gpu-node.ts";
export { toGpuPod, type GpuPod } from "./gpu-pod.ts";
export { filter, judge, leftoverIfFits, prioritize, type Candidate, type Verdict } from "./placement.ts";
export {
  extenderHandler,
  startExtenderServer,
  type ExtenderServerOptions,
  type RunningExtender,
} from "./server.ts";
export {
  kubeSchedulerConfig,
  kubeSchedulerConfigFile,
  type SchedulerConfigOverrides,
} from "./scheduler-config.ts";
export { watchCluster, type WatchClusterOptions, type WatchedCluster } from "./watch.ts";
export { startGpuExtender, type GpuExtender, type GpuExtenderOptions } from "./run.ts";
