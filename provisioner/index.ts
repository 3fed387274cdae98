/**
 * provisioner/: the Machine controller (karpenter.sh/v1alpha5 Machines to nodes) over a cloud
 * backend, and the backends. The wiring file calls registerProvisioner() once.
 */
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { Machine } from "../crds/index.ts";
import type { EventRecorder } from "../kube/events.ts";
import { gpuPodScope, nodeScope } from "../kube/caches.ts";
import { resources } from "../kube/resources.ts";
import { ControllerBuilder } from "../kube/runtime/builder.ts";
import type { Controller } from "../kube/runtime/controller.ts";
import type { Manager } from "../kube/runtime/manager.ts";
import type { CloudProvider, InsufficientCapacityError } from "./cloud/types.ts";
import type { Node, Pod } from "./kube-types.ts";
import { MachineController, machineControllerName } from "./machine/controller.ts";
import { GarbageCollector, type GarbageCollectionOptions } from "./machine/garbagecollection.ts";
import { providerIdKey } from "./cloud/providerid.ts";
import { InformerIndex } from "./machine/indexer.ts";
import type { LivenessOptions } from "./machine/liveness.ts";
import { ProvisionerMetrics } from "./machine/metrics.ts";
import { InformerNodeReader, machineKeysForNode } from "./machine/nodes.ts";
import type { TerminationOptions } from "./machine/termination.ts";

export * from "./cloud/types.ts";
export { providerIdKey, sameProviderID } from "./cloud/providerid.ts";
export {
  OfferingCache,
  type OfferingCacheOptions,
  type OfferingSnapshot,
  type OfferingSource,
} from "./cloud/offering.ts";
export { machineReasons, readiness, type MachineReason } from "./machine/conditions.ts";
export { capacityConditionReason } from "./machine/launch.ts";
export { MachineController, type MachineControllerOptions } from "./machine/controller.ts";
export { GarbageCollector, type GarbageCollectionOptions } from "./machine/garbagecollection.ts";
export { ProvisionerMetrics, gpuUsage } from "./machine/metrics.ts";
export { ClientNodeReader, InformerNodeReader, registeredLabel, type NodeReader } from "./machine/nodes.ts";
export { InformerIndex } from "./machine/indexer.ts";
export { defaultLivenessOptions, type LivenessOptions } from "./machine/liveness.ts";
export type { Node, Pod } from "./kube-types.ts";

export interface ProvisionerOptions {
  cloud: CloudProvider;
  recorder: EventRecorder;
  /** Defaults to the manager's. */
  clock?: Clock;
  log?: Logger;
  /** Machines reconciled at once (default 10). */
  concurrency?: number;
  liveness?: Partial<LivenessOptions>;
  termination?: Partial<TerminationOptions>;
  /** false turns the sweep for instances without a Machine off. */
  garbageCollection?: Partial<GarbageCollectionOptions> | false;
  /** false skips the pod informer behind kaito_gpu_allocated (default true). */
  gpuMetrics?: boolean;
  /** Told of each launch the cloud refused for quota, SKU or capacity. */
  onCapacityFailure?: (e: InsufficientCapacityError) => void;
}

export interface Provisioner {
  controller: Controller<Machine>;
  metrics: ProvisionerMetrics;
  garbageCollector: GarbageCollector | undefined;
}

/**
 * Adds the Machine controller, the instance garbage collector and the backend's background work
 * to the manager, with the informers they read (machines, nodes, and pods for the GPU gauges).
 * Call before manager.start().
 */
export function registerProvisioner(manager: Manager, o: ProvisionerOptions): Provisioner {
  const clock = o.clock ?? manager.clock;
  const log = (o.log ?? manager.log).with({ component: "provisioner", cloud: o.cloud.name });
  const machines = manager.informer<Machine>(resources.machines);
  const nodes = manager.informer<Node>(resources.nodes, nodeScope);
  const pods = o.gpuMetrics === false ? undefined : manager.informer<Pod>(resources.pods, gpuPodScope);
  const metrics = new ProvisionerMetrics(manager.registry, {
    nodes: () => nodes.list(),
    pods: () => pods?.list() ?? [],
  });
  const machinesByProviderID = new InformerIndex<Machine>(machines, (m) =>
    m.status?.providerID ? [providerIdKey(m.status.providerID)] : [],
  );
  const reconciler = new MachineController({
    client: manager.client,
    cloud: o.cloud,
    clock,
    recorder: o.recorder,
    nodes: new InformerNodeReader(nodes),
    metrics,
    liveness: o.liveness,
    termination: o.termination,
    onCapacityFailure: o.onCapacityFailure,
  });
  const controller = ControllerBuilder.named<Machine>(machineControllerName)
    .for(machines)
    .watches(nodes, (node) => machineKeysForNode(node, machinesByProviderID))
    .withConcurrency(o.concurrency ?? 10)
    .complete(reconciler, { metrics: manager.metrics, clock, log });
  manager.addController(controller);

  let garbageCollector: GarbageCollector | undefined;
  if (o.garbageCollection !== false) {
    garbageCollector = new GarbageCollector(
      {
        client: manager.client,
        cloud: o.cloud,
        clock,
        log: log.with({ component: "machine-garbage-collection" }),
        cachedMachine: (name) => machines.get(name),
      },
      o.garbageCollection,
    );
    manager.add(garbageCollector);
  }
  const cloud = o.cloud;
  if (cloud.start) {
    manager.add({ name: `cloud-${cloud.name}`, needsLeaderElection: true, start: (s) => cloud.start!(s) });
  }
  return { controller, metrics, garbageCollector };
}
