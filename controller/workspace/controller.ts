import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { Workspace, WorkspaceCondition, WorkspaceConditionType } from "../../crds/index.ts";
import type { Clock } from "../../lib/clock.ts";
import { errorMessage, isUserError } from "../../lib/errors.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { isTrue, setCondition, topLevelMergePatch } from "../../kube/conditions.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { Informer } from "../../kube/informer.ts";
import { resources as api } from "../../kube/resources.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
import type { OfferingSource } from "../../provisioner/index.ts";
import {
  minResult,
  TerminalError,
  type ReconcileContext,
  type Reconciler,
  type Result,
} from "../../kube/runtime/reconciler.ts";
import {
  capacityFailureReasons,
  osDiskGiB,
  type NodeProvisioner,
  type ResourceState,
} from "../nodeprovision/index.ts";
import { findSku } from "../../planner/catalog/index.ts";
import { reusableNodes } from "./nodes.ts";
import { isPlacementError, type Placement } from "./placement.ts";
import type { PlacementBatcher } from "./batch.ts";
import { placementDecision } from "./plan.ts";
import { modelNeed } from "./requirement.ts";
import { reconcileWorkload, type WorkloadCaches, type WorkloadState } from "./workload.ts";
import { isWorkloadConfigError } from "./configmaps.ts";
import { isModelAccessSecretError, type ModelSource } from "./models.ts";
import { workspaceState } from "./state.ts";
import { isHuggingFaceError } from "../../presets/index.ts";
import { isForeignObjectError } from "./ownership.ts";

export const workspaceFinalizer = "workspace.kaito.sh/finalizer";

/** Refusals of the model itself; an unreachable Hub is retried with backoff instead. */
function isModelRefusal(e: unknown): e is Error {
  return (isHuggingFaceError(e) && !e.retryable) || isModelAccessSecretError(e);
}

/** A launch that failed for a user-named instance type is retried after this long. */
const capacityRetryMs = 60_000;
/** A missing or broken config ConfigMap is looked at again after this long (ConfigMaps are not watched). */
const configRetryMs = 30_000;

export interface WorkspaceDependencies {
  client: KubeClient;
  planner: PlannerClient;
  recorder: EventRecorder;
  clock: Clock;
  /** Where the workspace's nodes come from (`--node-provisioner`). */
  provisioner: NodeProvisioner;
  nodes: Informer<V1Node & KubeObject>;
  pods: Informer<V1Pod & KubeObject>;
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
  workspaces: Informer<Workspace & KubeObject>;
}

/** A refused model (unknown, gated, bad token, missing Secret) is looked at again after this. */
const modelRetryMs = 60_000;

type Conditions = WorkspaceCondition[] | undefined;

/**
 * Turns a Workspace into nodes and a workload, one phase after the other on one in-memory copy:
 * model need → placement → nodes through the NodeProvisioner (Machines, NodeClaims, or the user's
 * own nodes; ResourceReady) → workload (InferenceReady, or JobStarted and WorkspaceSucceeded) →
 * WorkspaceReady. Status is written once, at the end.
 */
export class WorkspaceReconciler implements Reconciler<Workspace & KubeObject> {
  private readonly d: WorkspaceDependencies;

  constructor(deps: WorkspaceDependencies) {
    this.d = deps;
  }

  async reconcile(ws: Workspace & KubeObject, ctx: ReconcileContext): Promise<Result> {
    if (ws.metadata?.deletionTimestamp) return this.finalize(ws);
    if (!ws.metadata?.finalizers?.includes(workspaceFinalizer)) {
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
    let result: Result;
    let failure: unknown;
    try {
      result = await this.phases(ws, ctx);
    } catch (e) {
      failure = e;
      result = this.recordFailure(ws, e);
    }
    ws.status.observedGeneration = ws.metadata?.generation;
    ws.status.state = workspaceState(ws);
    await this.writeStatus(ws, before);
    if (
      failure &&
      !isUserError(failure) &&
      !isPlacementError(failure) &&
      !isWorkloadConfigError(failure) &&
      !isModelRefusal(failure) &&
      !isForeignObjectError(failure)
    )
      throw failure;
    if (failure && isUserError(failure)) throw new TerminalError(errorMessage(failure));
    return result;
  }

  private async phases(ws: Workspace, ctx: ReconcileContext): Promise<Result> {
    const status = ws.status!;
    const need = modelNeed(ws, await this.d.models?.presetFor(ws, ctx.signal));
    const provisioner = this.d.provisioner;
    const launches = provisioner.launches();
    const existing = reusableNodes(ws, this.d.nodes.list(), this.d.pods.list(), {
      launches,
      workspaces: this.d.workspaces.list(),
    });
    const decision = await placementDecision(ws, need, {
      planner: this.d.planner,
      existing,
      launches,
      offering: this.d.offering,
      signal: ctx.signal,
      existingOnly: !provisioner.createsNodes,
      batcher: this.d.batcher,
      workspace: (key) => this.d.workspaces.get(key),
    });
    if ("pendingMs" in decision) {
      this.condition(
        ws,
        "ResourceReady",
        "Unknown",
        "Planning",
        "Waiting for the workspaces that arrived with it, to plan them together.",
      );
      return { requeueAfterMs: decision.pendingMs };
    }
    const { placement, replanned } = decision;
    this.recordPlacement(ws, placement, replanned);

    const backoff = this.capacityBackoff(ws);
    if (backoff > 0) return { requeueAfterMs: backoff };
    const resources = await provisioner.reconcile(ws, {
      instanceType: placement.instanceType,
      newNodes: placement.newNodes,
      existingNodes: placement.existingNodes,
      gpusPerNode: findSku(placement.instanceType)?.gpus ?? placement.gpusPerPod,
      osDiskGiB: osDiskGiB(need.kind === "preset" ? need.requirement.totalGpuMemoryGiB : undefined),
      shared: (placement.sharedNodes ?? []).map((s) => s.name),
    });
    status.machines = resources.machines;
    const afterResources = this.recordResources(ws, resources);
    // Clear the failed launch; a fresh one is made once the back-off has passed.
    if (resources.kind === "launchFailed" && ws.resource.instanceType) await provisioner.clearFailed(ws);
    if (resources.kind !== "ready") {
      this.setWorkload(ws, undefined);
      return afterResources;
    }
    status.workerNodes = [...resources.nodes].sort();
    const workload = await reconcileWorkload(
      ws,
      need,
      placement,
      resources.nodes,
      this.d.client,
      this.d.workloads,
      this.d.schedulerName,
    );
    if (workload.applied)
      this.d.recorder.event(
        ws,
        "Normal",
        "WorkloadApplied",
        `Applied the ${ws.tuning ? "tuning Job" : "inference workload"} on ${resources.nodes.length} node(s).`,
      );
    const presetSpec = ws.inference?.preset ?? ws.tuning?.preset;
    const gated =
      need.kind === "preset" && need.preset.weights.kind === "download" && need.preset.weights.gated;
    if (workload.applied && gated && !presetSpec?.presetOptions?.modelAccessSecret)
      this.d.recorder.event(
        ws,
        "Warning",
        "ModelAccessSecretMissing",
        `${presetSpec?.name}'s weights are gated on Hugging Face: set presetOptions.modelAccessSecret to a Secret whose HF_TOKEN key holds an access token.`,
      );
    this.setWorkload(ws, workload);
    return minResult(afterResources);
  }

  /**
   * A user-named size that failed to launch is tried again only after capacityRetryMs from the
   * failure, computed from the condition's transition time (a deadline, not polling).
   */
  private capacityBackoff(ws: Workspace): number {
    if (!ws.resource.instanceType) return 0;
    const c = (ws.status?.conditions as Conditions)?.find((x) => x.type === "ResourceReady");
    if (c?.status !== "False" || !c.lastTransitionTime || !capacityFailureReasons.has(c.reason ?? ""))
      return 0;
    return Math.max(0, Date.parse(c.lastTransitionTime) + capacityRetryMs - this.d.clock.now());
  }

  private condition(
    ws: Workspace,
    type: WorkspaceConditionType,
    status: "True" | "False" | "Unknown",
    reason: string,
    message: string,
  ) {
    const now = this.d.clock.now();
    ws.status!.conditions = setCondition(
      ws.status!.conditions as Conditions,
      { type, status, reason, message, observedGeneration: ws.metadata?.generation },
      now,
    );
  }

  private recordPlacement(ws: Workspace, p: Placement, replanned: boolean) {
    const status = ws.status!;
    status.instanceType = p.instanceType;
    status.nodeCount = p.newNodes + p.existingNodes.length + (p.sharedNodes?.length ?? 0);
    status.targetNodeCount = status.nodeCount;
    status.costPerHour = p.costPerHour.toFixed(3);
    status.placement = {
      instanceType: p.instanceType,
      replicas: p.replicas,
      gpusPerPod: p.gpusPerPod,
      nodesPerReplica: p.nodesPerReplica,
      newNodes: p.newNodes,
      existingNodes: p.existingNodes,
      ...(p.sharedNodes?.length ? { sharedNodes: p.sharedNodes } : {}),
    };
    if (replanned) {
      const shared = p.sharedNodes?.length
        ? ` and ${p.sharedNodes.length} node(s) it shares with ${[...new Set(p.sharedNodes.map((s) => s.launchedBy))].join(", ")}`
        : "";
      const reuse =
        (p.existingNodes.length ? ` and ${p.existingNodes.length} existing node(s)` : "") + shared;
      this.d.recorder.event(
        ws,
        "Normal",
        "PlanChosen",
        `The planner chose ${p.newNodes} × ${p.instanceType}${reuse} at $${p.costPerHour.toFixed(2)}/h for ${p.replicas} replica(s) of ${p.gpusPerPod} GPU(s).`,
      );
      if (p.countAdjusted) this.d.recorder.event(ws, "Warning", "CountAdjusted", p.countAdjusted);
    }
  }

  private recordResources(ws: Workspace, r: ResourceState): Result {
    const status = ws.status!;
    if (r.kind === "ready") {
      this.condition(ws, "ResourceReady", "True", "NodesReady", `${r.nodes.length} node(s) ready.`);
      return {};
    }
    if (r.kind === "waiting") {
      this.condition(
        ws,
        "ResourceReady",
        "Unknown",
        "WaitingForNodes",
        `${r.ready} of ${r.wanted} node(s) ready.`,
      );
      return {};
    }
    const failed = new Set(status.failedInstanceTypes ?? []);
    failed.add(r.instanceType);
    status.failedInstanceTypes = [...failed].sort();
    if (ws.resource.instanceType) {
      // The user chose this size: report, and retry later in case capacity comes back.
      this.condition(
        ws,
        "ResourceReady",
        "False",
        r.reason,
        `${r.instanceType} could not be launched: ${r.message}`,
      );
      this.d.recorder.event(
        ws,
        "Warning",
        r.reason,
        `${r.instanceType} could not be launched: ${r.message}; retrying in ${capacityRetryMs / 1000} s.`,
      );
      return { requeueAfterMs: capacityRetryMs };
    }
    delete status.placement;
    this.condition(
      ws,
      "ResourceReady",
      "Unknown",
      "Replanning",
      `${r.instanceType} could not be launched (${r.reason}); choosing another size.`,
    );
    this.d.recorder.event(
      ws,
      "Warning",
      "InstanceTypeUnavailable",
      `${r.instanceType} could not be launched (${r.message}); replanning without it.`,
    );
    return { requeueAfterMs: 0 };
  }

  private setWorkload(ws: Workspace, w: WorkloadState | undefined) {
    const resourceReady = isTrue(ws.status!.conditions as Conditions, "ResourceReady");
    if (ws.tuning) {
      if (!w || w.kind !== "tuning") {
        this.condition(
          ws,
          "JobStarted",
          "Unknown",
          "WaitingForNodes",
          "The tuning Job starts once its nodes are ready.",
        );
        this.condition(ws, "WorkspaceReady", "Unknown", "WaitingForNodes", "Waiting for nodes.");
        return;
      }
      this.condition(
        ws,
        "JobStarted",
        w.started ? "True" : "Unknown",
        w.started ? "JobStarted" : "JobPending",
        w.started ? "The tuning Job is running." : "The tuning Job is waiting for its pod.",
      );
      if (w.succeeded) {
        this.condition(ws, "WorkspaceSucceeded", "True", "JobSucceeded", "The tuning Job completed.");
        this.condition(
          ws,
          "WorkspaceReady",
          "True",
          "TuningSucceeded",
          "Tuning completed; the adapter is in the output.",
        );
      } else if (w.failed) {
        this.condition(
          ws,
          "WorkspaceSucceeded",
          "False",
          "JobFailed",
          "The tuning Job failed; see its pods' logs.",
        );
        this.condition(ws, "WorkspaceReady", "False", "JobFailed", "The tuning Job failed.");
      } else {
        this.condition(ws, "WorkspaceSucceeded", "Unknown", "JobRunning", "The tuning Job has not finished.");
        this.condition(ws, "WorkspaceReady", "Unknown", "JobRunning", "Tuning in progress.");
      }
      return;
    }
    if (!w || w.kind !== "inference") {
      this.condition(
        ws,
        "InferenceReady",
        "Unknown",
        "WaitingForNodes",
        "The inference workload starts once its nodes are ready.",
      );
      this.condition(ws, "WorkspaceReady", "Unknown", "WaitingForNodes", "Waiting for nodes.");
      return;
    }
    const ready = w.ready >= w.wanted;
    this.condition(
      ws,
      "InferenceReady",
      ready ? "True" : "Unknown",
      ready ? "InferenceReady" : "WaitingForReplicas",
      `${Math.min(w.ready, w.wanted)} of ${w.wanted} replica(s) ready.`,
    );
    if (ready && resourceReady)
      this.condition(ws, "WorkspaceReady", "True", "WorkspaceReady", "The model is serving.");
    else
      this.condition(
        ws,
        "WorkspaceReady",
        "Unknown",
        "WaitingForReplicas",
        "Waiting for the inference replicas.",
      );
  }

  /** Bad input and impossible placements become conditions that say what to fix. */
  private recordFailure(ws: Workspace, e: unknown): Result {
    const message = errorMessage(e);
    if (isModelRefusal(e)) {
      // The model cannot be read as named: gated without a token, unknown, a bad Secret. Creating
      // the Secret or getting access changes nothing the controller watches, so look again later.
      const reason = isHuggingFaceError(e) ? e.code : "ModelAccessSecretInvalid";
      this.condition(ws, "ResourceReady", "False", reason, message);
      this.condition(ws, "WorkspaceReady", "False", reason, message);
      this.d.recorder.event(ws, "Warning", reason, message);
      return { requeueAfterMs: modelRetryMs };
    }
    if (isUserError(e)) {
      this.condition(ws, "ResourceReady", "False", "InvalidSpec", message);
      this.condition(ws, "WorkspaceReady", "False", "InvalidSpec", message);
      this.d.recorder.event(ws, "Warning", "InvalidSpec", message);
      return {};
    }
    if (isForeignObjectError(e)) {
      // Deleting or renaming that object changes nothing this workspace watches: look again later.
      this.condition(ws, "WorkspaceReady", "False", e.code, message);
      this.d.recorder.event(ws, "Warning", e.code, message);
      return { requeueAfterMs: configRetryMs };
    }
    if (isWorkloadConfigError(e)) {
      this.condition(ws, "WorkspaceReady", "False", "InvalidConfig", message);
      this.d.recorder.event(ws, "Warning", "InvalidConfig", message);
      return { requeueAfterMs: configRetryMs };
    }
    if (isPlacementError(e)) {
      this.condition(ws, "ResourceReady", "False", e.reason, message);
      this.condition(ws, "WorkspaceReady", "False", e.reason, message);
      this.d.recorder.event(ws, "Warning", e.reason, message);
      // Capacity and the sizes on offer change without the Workspace changing: look again later.
      // byo's NotEnoughNodes is retried when a node changes (the Node watch), not on a timer.
      return e.reason === "NoCapacity" ||
        e.reason === "InstanceTypeNotOffered" ||
        e.reason === "QuotaExceeded"
        ? { requeueAfterMs: 5 * capacityRetryMs }
        : {};
    }
    this.condition(ws, "WorkspaceReady", "Unknown", "ReconcileError", message);
    return {};
  }

  /**
   * The leader is the only writer of a Workspace's status, so a merge patch of what changed is
   * safe without a resourceVersion, and a stale cache cannot make it conflict.
   */
  private async writeStatus(ws: Workspace, before: Record<string, unknown>): Promise<void> {
    const patch = topLevelMergePatch(before, ws.status as Record<string, unknown>);
    if (Object.keys(patch).length === 0) return;
    await this.d.client.patch(
      api.workspaces,
      ws.metadata!.name!,
      ws.metadata!.namespace,
      { status: patch },
      "merge",
      { subresource: "status" },
    );
  }

  /**
   * Deletion: the node objects go first (their finalizers remove nodes and instances), then our
   * finalizer. byo deletes nothing: the nodes are the user's.
   */
  private async finalize(ws: Workspace & KubeObject): Promise<Result> {
    this.d.batcher?.forget(ws);
    if (!ws.metadata?.finalizers?.includes(workspaceFinalizer)) return {};
    const gone = await this.d.provisioner.delete(ws);
    if (!gone) {
      const before = structuredClone(ws.status ?? {}) as Record<string, unknown>;
      ws.status ??= {};
      this.condition(
        ws,
        "WorkspaceDeleting",
        "True",
        "DeletingMachines",
        `Waiting for the workspace's ${this.d.provisioner.kind ?? "node object"}s to be deleted.`,
      );
      await this.writeStatus(ws, before);
      return {};
    }
    await this.d.client.patch(
      api.workspaces,
      ws.metadata.name!,
      ws.metadata.namespace,
      {
        metadata: {
          finalizers: ws.metadata.finalizers.filter((f) => f !== workspaceFinalizer),
          resourceVersion: ws.metadata.resourceVersion,
        },
      },
      "merge",
    );
    this.d.recorder.event(
      ws,
      "Normal",
      "Deleted",
      this.d.provisioner.kind
        ? `All ${this.d.provisioner.kind}s of the workspace are gone.`
        : "The workspace is gone; its nodes are the user's and stay.",
    );
    return {};
  }
}
