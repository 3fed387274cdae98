import type { V1Deployment, V1Job, V1Node, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import type { Machine, Workspace } from "../../crds/index.ts";
import { workspaceLabel, workspaceNamespaceLabel } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { resources as api, type Resource } from "../../kube/resources.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
import type { OfferingSource } from "../../provisioner/index.ts";
import { ControllerBuilder } from "../../kube/runtime/builder.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { WorkspaceReconciler } from "./controller.ts";
import { registerWorkspaceMetrics } from "./metrics.ts";
import type { ModelSource } from "./models.ts";

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
    /** Presets for Hugging Face model ids. */
    models?: ModelSource;
  },
): void {
  const workspaces = manager.informer<Workspace & KubeObject>(api.workspaces);
  const machines = manager.informer<Machine & KubeObject>(api.machines);
  const reconciler = new WorkspaceReconciler({
    client: manager.client,
    planner: deps.planner,
    recorder: deps.recorder,
    clock: manager.clock,
    schedulerName: deps.schedulerName,
    offering: deps.offering,
    models: deps.models,
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
  manager.addController(
    ControllerBuilder.named<Workspace & KubeObject>("workspace")
      .for(workspaces)
      .owns(owned(api.deployments))
      .owns(owned(api.statefulSets))
      .owns(owned(api.jobs))
      .watches(machines, workspaceOfMachine)
      .withConcurrency(deps.concurrency ?? 4)
      .complete(reconciler, { metrics: manager.metrics, clock: manager.clock, log: manager.log }),
  );
}
