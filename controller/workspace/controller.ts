import type { Workspace } from "../../crds/index.ts";
import { objectKey } from "../../kube/informer.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources as api } from "../../kube/resources.ts";
import {
  minResult,
  type ReconcileContext,
  type Reconciler,
  type Result,
} from "../../kube/runtime/reconciler.ts";
import { workspaceState } from "./state.ts";
import { SupersededVersions } from "../../kube/runtime/superseded.ts";
import { Failures, thrownAfterStatus } from "./phases/failures.ts";
import {
  workspaceFinalizer,
  writeStatus,
  type WorkingWorkspace,
  type WorkspaceDependencies,
} from "./phases/phase.ts";
import { PlacementPhase } from "./phases/placement.ts";
import { ResourcesPhase } from "./phases/resources.ts";
import { Termination } from "./phases/termination.ts";
import { WorkloadPhase } from "./phases/workload.ts";

export { workspaceFinalizer, type WorkspaceDependencies };

/** How soon a pass on a copy older than our own last write runs again (the informer has it by then). */
const supersededRetryMs = 200;

/**
 * Turns a Workspace into nodes and a workload, one phase after the other on one in-memory copy
 * (phases/): placement (the model's need and where it runs) → resources (nodes through the
 * NodeProvisioner: Machines, NodeClaims or the user's own nodes; ResourceReady) → workload
 * (InferenceReady, or JobStarted and WorkspaceSucceeded; WorkspaceReady). Each phase hands the
 * next what it found; one that ends the pass (a batch still gathering, a capacity back-off)
 * hands nothing on. A failure is classified onto the status (failures.ts), the status is written
 * once, at the end, and only then is the failure rethrown when the queue should retry it.
 */
export class WorkspaceReconciler implements Reconciler<Workspace & KubeObject> {
  private readonly d: WorkspaceDependencies;
  private readonly placement: PlacementPhase;
  private readonly resources: ResourcesPhase;
  private readonly workload: WorkloadPhase;
  private readonly failures: Failures;
  private readonly termination: Termination;
  /** The versions this reconciler wrote past, by namespace/name (see reconcile()). */
  private readonly written = new SupersededVersions();

  constructor(deps: WorkspaceDependencies) {
    this.d = deps;
    this.placement = new PlacementPhase(deps);
    this.resources = new ResourcesPhase(deps);
    this.workload = new WorkloadPhase(deps);
    this.failures = new Failures(deps);
    this.termination = new Termination(deps);
  }

  async reconcile(ws: Workspace & KubeObject, ctx: ReconcileContext): Promise<Result> {
    const key = objectKey(ws);
    // The informer's copy can lag behind our own last write: acting on it would redo what that
    // write recorded (ask the batcher again for a plan already stored in status.placement, and
    // plan a replica's node a second time). Wait for the informer to deliver it.
    if (this.written.superseded(key, ws.metadata?.resourceVersion))
      return { requeueAfterMs: supersededRetryMs };
    if (ws.metadata?.deletionTimestamp) {
      const result = await this.termination.reconcile(ws);
      this.written.forget(key);
      return result;
    }
    if (!ws.metadata?.finalizers?.includes(workspaceFinalizer)) {
      this.written.record(key, ws.metadata?.resourceVersion);
      // Before any node object exists, so nothing is made that deletion would not clean up.
      const updated = await this.d.client.patch<Workspace & KubeObject>(
        api.workspaces,
        ws.metadata!.name!,
        ws.metadata!.namespace,
        {
          metadata: {
            finalizers: [...(ws.metadata?.finalizers ?? []), workspaceFinalizer],
            resourceVersion: ws.metadata?.resourceVersion,
          },
        },
        "merge",
      );
      ws.metadata = updated.metadata;
    }
    const before = structuredClone(ws.status ?? {}) as Record<string, unknown>;
    ws.status ??= {};
    const working = ws as WorkingWorkspace;
    let result: Result;
    let thrown: { error: unknown } | undefined;
    try {
      result = await this.phases(working, ctx);
    } catch (e) {
      result = this.failures.record(working, e);
      thrown = thrownAfterStatus(e);
    }
    working.status.observedGeneration = ws.metadata?.generation;
    working.status.state = workspaceState(ws);
    const version = ws.metadata?.resourceVersion;
    const written = await writeStatus(this.d.client, ws, before);
    // A patch the server found to change nothing keeps the version: that copy is not stale.
    if (written !== undefined && written !== version) this.written.record(key, version);
    if (thrown) throw thrown.error;
    return result;
  }

  private async phases(ws: WorkingWorkspace, ctx: ReconcileContext): Promise<Result> {
    const planned = await this.placement.reconcile(ws, undefined, ctx);
    if (!planned.next) return planned.result;
    const provisioned = await this.resources.reconcile(ws, planned.next);
    if (!provisioned.next) return provisioned.result;
    const workload = await this.workload.reconcile(ws, provisioned.next);
    return minResult(provisioned.result, workload.result);
  }
}
