import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { InferenceSet } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { gpuPodScope, nodeScope } from "../../kube/caches.ts";
import { resources as api } from "../../kube/resources.ts";
import { ControllerBuilder } from "../../kube/runtime/builder.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { InferenceSetReconciler } from "./controller.ts";
import type { Replica } from "./replicas.ts";

export { InferenceSetReconciler } from "./controller.ts";

/** Registers the InferenceSet controller: the set is primary, its Workspaces are owned. */
export function registerInferenceSetController(
  manager: Manager,
  deps: { recorder: EventRecorder; concurrency?: number },
): void {
  const sets = manager.informer<InferenceSet & KubeObject>(api.inferenceSets);
  const workspaces = manager.informer<Replica>(api.workspaces);
  const reconciler = new InferenceSetReconciler({
    client: manager.client,
    recorder: deps.recorder,
    clock: manager.clock,
    workspaces,
    // The caches every component shares (kube/caches.ts): which replicas share a node is read
    // from the pods that hold its GPUs, so memory grows with the GPU pods, not the cluster's.
    pods: manager.informer<V1Pod & KubeObject>(api.pods, gpuPodScope),
    nodes: manager.informer<V1Node & KubeObject>(api.nodes, nodeScope),
  });
  manager.addController(
    ControllerBuilder.named<InferenceSet & KubeObject>("inferenceset")
      .for(sets)
      .owns(manager.informer<KubeObject>(api.workspaces))
      .withConcurrency(deps.concurrency ?? 2)
      .complete(reconciler, { metrics: manager.metrics, clock: manager.clock, log: manager.log }),
  );
}
