import type { V1Deployment, V1Job, V1Node, V1Pod, V1StatefulSet } from "@kubernetes/client-node";
import { workspaceLabel, type Workspace } from "../../crds/index.ts";
import { gpuPodScope, nodeScope } from "../../kube/caches.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { resources as api, type Resource } from "../../kube/resources.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
import type { OfferingSource } from "../../provisioner/index.ts";
import { ControllerBuilder } from "../../kube/runtime/builder.ts";
import type { Controller } from "../../kube/runtime/controller.ts";
import { PlacementBatcher } from "./batch.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { createNodeProvisioner, type NodeProvisionerConfig } from "../nodeprovision/index.ts";
import { WorkspaceReconciler } from "./controller.ts";
import { registerWorkspaceMetrics } from "./metrics.ts";
import type { ModelSource } from "./models.ts";

export { workspaceFinalizer } from "./controller.ts";
export { defaultSchedulerName } from "./workload.ts";

/**
 * What the controller creates (Deployments, StatefulSets, Jobs, Services) carries the workspace
 * label, and its caches hold only objects with it: the rest of the cluster's workloads stay out of
 * memory. An object of ours that loses the label leaves the cache and the next reconcile applies
 * it again, label included.
 */
export const ownedScope = { labelSelector: workspaceLabel };

export function registerWorkspaceController(
  manager: Manager,
  deps: {
    planner: PlannerClient;
    recorder: EventRecorder;
    concurrency?: number;
    schedulerName: string;
    /** What the cloud can launch now; only where this process has the cloud. */
    offering?: OfferingSource;
    /** How nodes are made (default: builtin Machines). */
    nodeProvisioner?: NodeProvisionerConfig;
    /** Presets for Hugging Face model ids. */
    models?: ModelSource;
    /**
     * The batching window of workspaces that arrive together (batch.ts): default 1 s idle,
     * 10 s at most; false plans each workspace alone.
     */
    batching?: false | { idleMs: number; maxMs: number };
  },
): void {
  const workspaces = manager.informer<Workspace & KubeObject>(api.workspaces);
  const provisioner = createNodeProvisioner(deps.nodeProvisioner ?? { mode: "builtin" }, {
    manager,
    recorder: deps.recorder,
  });
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
    models: deps.models,
    provisioner,
    nodes: manager.informer<V1Node & KubeObject>(api.nodes, nodeScope),
    pods: manager.informer<V1Pod & KubeObject>(api.pods, gpuPodScope),
    workloads: {
      deployments: manager.informer<V1Deployment & KubeObject>(api.deployments, ownedScope),
      statefulSets: manager.informer<V1StatefulSet & KubeObject>(api.statefulSets, ownedScope),
      jobs: manager.informer<V1Job & KubeObject>(api.jobs, ownedScope),
      services: manager.informer<KubeObject>(api.services, ownedScope),
    },
  });
  registerWorkspaceMetrics(manager.registry, workspaces, manager.clock);
  const owned = (r: Resource) => manager.informer<KubeObject>(r, ownedScope);
  const controller: Controller<Workspace & KubeObject> = ControllerBuilder.named<Workspace & KubeObject>(
    "workspace",
  )
    .for(workspaces)
    .owns(owned(api.deployments))
    .owns(owned(api.statefulSets))
    .owns(owned(api.jobs))
    // Machines and NodeClaims map to their workspace by label (they are cluster-scoped, so no
    // ownerReference) and to the workspaces sharing them; byo's Nodes wake the workspaces
    // waiting for nodes.
    .watches(provisioner.watched, (o) => provisioner.workspacesOf(o))
    .withConcurrency(deps.concurrency ?? 4)
    .complete(reconciler, { metrics: manager.metrics, clock: manager.clock, log: manager.log });
  manager.addController(controller);
}
