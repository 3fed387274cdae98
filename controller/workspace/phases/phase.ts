import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type {
  Workspace,
  WorkspaceCondition,
  WorkspaceConditionType,
  WorkspaceStatus,
} from "../../../crds/index.ts";
import type { Clock } from "../../../lib/clock.ts";
import type { KubeClient, KubeObject } from "../../../kube/client.ts";
import { setCondition, topLevelMergePatch, type ConditionStatus } from "../../../kube/conditions.ts";
import type { EventRecorder } from "../../../kube/events.ts";
import type { Informer } from "../../../kube/informer.ts";
import { resources as api } from "../../../kube/resources.ts";
import type { ReconcileContext, Result } from "../../../kube/runtime/reconciler.ts";
import type { PlannerClient } from "../../../planner/grpc/index.ts";
import type { OfferingSource } from "../../../provisioner/index.ts";
import type { NodeProvisioner } from "../../nodeprovision/index.ts";
import type { PlacementBatcher } from "../batch.ts";
import type { ModelSource } from "../models.ts";
import type { WorkloadCaches } from "../workload.ts";

export const workspaceFinalizer = "workspace.kaito.sh/finalizer";

/** A launch that failed for a user-named instance type is retried after this long. */
export const capacityRetryMs = 60_000;

/** What the Workspace reconciler and its phases read and write through. */
export interface WorkspaceDependencies {
  client: KubeClient;
  planner: PlannerClient;
  recorder: EventRecorder;
  clock: Clock;
  /** Where the workspace's nodes come from (`--node-provisioner`). */
  provisioner: NodeProvisioner;
  nodes: Pick<Informer<V1Node & KubeObject>, "list">;
  pods: Pick<Informer<V1Pod & KubeObject>, "list">;
  workloads: WorkloadCaches;
  /** spec.schedulerName of the workload's pods. */
  schedulerName: string;
  /**
   * What the cloud can launch now, when this process has the cloud; without it plans use the
   * whole catalogue and no quota, and the cloud's refusals show only when a launch fails.
   */
  offering?: OfferingSource;
  /** Presets for Hugging Face model ids; without it only catalogue presets are known. */
  models?: ModelSource;
  /** Plans workspaces that arrive together as one problem (batch.ts); absent, one at a time. */
  batcher?: PlacementBatcher;
  /**
   * The Workspaces' cache: the launchers and owners of shared nodes, and the GPUs other plans
   * promise on the nodes a plan may share.
   */
  workspaces: Pick<Informer<Workspace & KubeObject>, "list" | "get">;
}

/** The in-memory copy a pass works on: the parent gives it a status before the first phase. */
export type WorkingWorkspace = Workspace & KubeObject & { status: WorkspaceStatus };

/**
 * What a phase hands back: the result it asks for, and what the next phase needs. Without `next`
 * the pass ends here (waiting for a batch, backing off) and the parent returns `result`.
 */
export interface Step<T> {
  result: Result;
  next?: T;
}

/**
 * One step of a Workspace's pass. It owns its conditions and events, mutates the in-memory copy
 * the parent passes to every phase, takes what the phase before it found as `input`, and throws
 * to have the failure classified (failures.ts) and the pass retried or stopped.
 */
export interface Phase<In, Out> {
  reconcile(ws: WorkingWorkspace, input: In, ctx: ReconcileContext): Promise<Step<Out>>;
}

/**
 * Sets a condition of the in-memory copy, stamped with the workspace's generation; its
 * lastTransitionTime moves only when the status changes (back-off deadlines are computed from it).
 */
export function setWorkspaceCondition(
  ws: WorkingWorkspace,
  clock: Pick<Clock, "now">,
  type: WorkspaceConditionType,
  status: ConditionStatus,
  reason: string,
  message: string,
): void {
  ws.status.conditions = setCondition<WorkspaceCondition>(
    ws.status.conditions,
    { type, status, reason, message, observedGeneration: ws.metadata?.generation },
    clock.now(),
  );
}

/**
 * Writes what changed of the status since `before`, through the status subresource. The leader is
 * the only writer of a Workspace's status, so a merge patch of what changed is safe without a
 * resourceVersion, and a stale cache cannot make it conflict. Nothing changed, nothing is sent.
 * Returns the resourceVersion the server answered with (undefined when nothing was sent): the
 * same as the copy's when the patch changed nothing there.
 */
export async function writeStatus(
  client: Pick<KubeClient, "patch">,
  ws: Workspace,
  before: Record<string, unknown>,
): Promise<string | undefined> {
  const patch = topLevelMergePatch(before, (ws.status ?? {}) as Record<string, unknown>);
  if (Object.keys(patch).length === 0) return undefined;
  const written = await client.patch<KubeObject>(
    api.workspaces,
    ws.metadata!.name!,
    ws.metadata!.namespace,
    { status: patch },
    "merge",
    { subresource: "status" },
  );
  return written?.metadata?.resourceVersion;
}
