import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { InferenceSet } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
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
    pods: manager.informer<V1Pod & KubeObject>(api.pods),
    nodes: manager.informer<V1Node & KubeObject>(api.nodes),
  });
  manager.addController(
    ControllerBuilder.named<InferenceSet & KubeObject>("inferenceset")
      .for(sets)
      .owns(manager.informer<KubeObject>(api.workspaces))
      .withConcurrency(deps.concurrency ?? 2)
      .complete(reconciler, { metrics: manager.metrics, clock: manager.clock, log: manager.log }),
  );
}
