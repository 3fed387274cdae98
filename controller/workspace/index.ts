import type { V1Deployment, V1Job, V1Node, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import type { Machine, Workspace } from "../../crds/index.ts";
import { workspaceLabel, workspaceNamespaceLabel } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { resources as api, type Resource } from "../../kube/resources.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
import type { OfferingSource } from "../../provisioner/index.ts";
import { ControllerBuilder } from "../../kube/runtime/builder.ts";
import type { Controller } from "../../kube/runtime/controller.ts";
import { PlacementBatcher } from "./batch.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { WorkspaceReconciler } from "./controller.ts";
import { registerWorkspaceMetrics } from "./metrics.ts";

export { workspaceFinalizer } from "./controller.ts";
export { defaultSchedulerName } from "./workload.ts";

/** The Machine's workspace, from its labels: Machines are cluster-scoped, so no ownerReference. */
function workspaceOfMachine(m: KubeObject): string[] {
  const labels = m.metadata?.labels ?? {};
  const name = labels[workspaceLabel];
  const namespace = labels[workspaceNamespaceLabel];
  return name && namespace ? [`${namespace}/${name}`] : [];
}

export function registerWorkspaceController(
  manager: Manager,
  deps: {
    planner: PlannerClient;
    recorder: EventRecorder;
    concurrency?: number;
    schedulerName: string;
    /** What the cloud can launch now; only where this process has the cloud. */
    offering?: OfferingSource;
    /**
     * The batching window of workspaces that arrive together (batch.ts): default 1 s idle,
     * 10 s at most; false plans each workspace alone.
     */
    batching?: false | { idleMs: number; maxMs: number };
  },
): void {
  const workspaces = manager.informer<Workspace & KubeObject>(api.workspaces);
  const machines = manager.informer<Machine & KubeObject>(api.machines);
  const batcher =
    deps.batching === false
      ? undefined
      : new PlacementBatcher({
          planner: deps.planner,
          clock: manager.clock,
          // The controller is built below; the batcher calls back only once it runs.
          enqueue: (key) => controller.enqueue(key),
          ...deps.batching,
          log: manager.log.with({ component: "placement-batcher" }),
        });
  const reconciler = new WorkspaceReconciler({
    batcher,
    workspaces,
    client: manager.client,
    planner: deps.planner,
    recorder: deps.recorder,
    clock: manager.clock,
    schedulerName: deps.schedulerName,
    offering: deps.offering,
    machines,
    nodes: manager.informer<V1Node & KubeObject>(api.nodes),
    pods: manager.informer<V1Pod & KubeObject>(api.pods),
    workloads: {
      deployments: manager.informer<V1Deployment & KubeObject>(api.deployments),
      statefulSets: manager.informer<V1StatefulSet & KubeObject>(api.statefulSets),
      jobs: manager.informer<V1Job & KubeObject>(api.jobs),
      services: manager.informer<KubeObject>(api.services),
    },
  });
  registerWorkspaceMetrics(manager.registry, workspaces, manager.clock);
  const owned = (r: Resource) => manager.informer<KubeObject>(r);
  const controller: Controller<Workspace & KubeObject> = ControllerBuilder.named<Workspace & KubeObject>(
    "workspace",
  )
    .for(workspaces)
    .owns(owned(api.deployments))
    .owns(owned(api.statefulSets))
    .owns(owned(api.jobs))
    .watches(machines, workspaceOfMachine)
    .withConcurrency(deps.concurrency ?? 4)
    .complete(reconciler, { metrics: manager.metrics, clock: manager.clock, log: manager.log });
  manager.addController(controller);
}
