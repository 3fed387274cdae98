import type { ConditionStatus } from "../../../kube/conditions.ts";
import { isTrue } from "../../../kube/conditions.ts";
import type { WorkspaceConditionType } from "../../../crds/index.ts";
import { reconcileWorkload, type WorkloadState } from "../workload.ts";
import type { Provisioned } from "./resources.ts";
import {
  setWorkspaceCondition,
  type Phase,
  type Step,
  type WorkingWorkspace,
  type WorkspaceDependencies,
} from "./phase.ts";

type WorkloadDependencies = Pick<
  WorkspaceDependencies,
  "client" | "workloads" | "schedulerName" | "recorder" | "clock"
>;

/**
 * The workload on the ready nodes: the inference Deployment or StatefulSets (InferenceReady), or
 * the tuning Job (JobStarted, WorkspaceSucceeded), and WorkspaceReady over them. Until the nodes
 * are ready, its conditions say it waits for them and nothing is applied.
 */
export class WorkloadPhase implements Phase<Provisioned, never> {
  private readonly d: WorkloadDependencies;

  constructor(deps: WorkloadDependencies) {
    this.d = deps;
  }

  async reconcile(ws: WorkingWorkspace, input: Provisioned): Promise<Step<never>> {
    const { need, placement, resources } = input;
    if (resources.kind !== "ready") {
      this.setConditions(ws, undefined);
      return { result: {} };
    }
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
    this.setConditions(ws, workload);
    return { result: {} };
  }

  private setConditions(ws: WorkingWorkspace, w: WorkloadState | undefined): void {
    const condition = (
      type: WorkspaceConditionType,
      status: ConditionStatus,
      reason: string,
      message: string,
    ) => setWorkspaceCondition(ws, this.d.clock, type, status, reason, message);
    const resourceReady = isTrue(ws.status.conditions, "ResourceReady");
    if (ws.tuning) {
      if (!w || w.kind !== "tuning") {
        condition(
          "JobStarted",
          "Unknown",
          "WaitingForNodes",
          "The tuning Job starts once its nodes are ready.",
        );
        condition("WorkspaceReady", "Unknown", "WaitingForNodes", "Waiting for nodes.");
        return;
      }
      condition(
        "JobStarted",
        w.started ? "True" : "Unknown",
        w.started ? "JobStarted" : "JobPending",
        w.started ? "The tuning Job is running." : "The tuning Job is waiting for its pod.",
      );
      if (w.succeeded) {
        condition("WorkspaceSucceeded", "True", "JobSucceeded", "The tuning Job completed.");
        condition(
          "WorkspaceReady",
          "True",
          "TuningSucceeded",
          "Tuning completed; the adapter is in the output.",
        );
      } else if (w.failed) {
        condition("WorkspaceSucceeded", "False", "JobFailed", "The tuning Job failed; see its pods' logs.");
        condition("WorkspaceReady", "False", "JobFailed", "The tuning Job failed.");
      } else {
        condition("WorkspaceSucceeded", "Unknown", "JobRunning", "The tuning Job has not finished.");
        condition("WorkspaceReady", "Unknown", "JobRunning", "Tuning in progress.");
      }
      return;
    }
    if (!w || w.kind !== "inference") {
      condition(
        "InferenceReady",
        "Unknown",
        "WaitingForNodes",
        "The inference workload starts once its nodes are ready.",
      );
      condition("WorkspaceReady", "Unknown", "WaitingForNodes", "Waiting for nodes.");
      return;
    }
    const ready = w.ready >= w.wanted;
    condition(
      "InferenceReady",
      ready ? "True" : "Unknown",
      ready ? "InferenceReady" : "WaitingForReplicas",
      `${Math.min(w.ready, w.wanted)} of ${w.wanted} replica(s) ready.`,
    );
    if (ready && resourceReady)
      condition("WorkspaceReady", "True", "WorkspaceReady", "The model is serving.");
    else condition("WorkspaceReady", "Unknown", "WaitingForReplicas", "Waiting for the inference replicas.");
  }
}
