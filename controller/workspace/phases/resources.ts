import type { ConditionStatus } from "../../../kube/conditions.ts";
import type { Result } from "../../../kube/runtime/reconciler.ts";
import { findSku } from "../../../planner/catalog/index.ts";
import { capacityFailureReasons, osDiskGiB, type ResourceState } from "../../nodeprovision/index.ts";
import type { Planned } from "./placement.ts";
import {
  capacityRetryMs,
  setWorkspaceCondition,
  type Phase,
  type Step,
  type WorkingWorkspace,
  type WorkspaceDependencies,
} from "./phase.ts";

/** What the nodes phase hands the workload phase: the plan, and where its nodes stand. */
export interface Provisioned extends Planned {
  resources: ResourceState;
}

type ResourcesDependencies = Pick<WorkspaceDependencies, "provisioner" | "recorder" | "clock">;

/**
 * The placement's nodes through the NodeProvisioner (Machines, NodeClaims, or the user's own
 * nodes), reported on ResourceReady. A launch that failed for capacity replans an auto-sized
 * workspace on another size at once; a user-named size is reported and tried again only after
 * capacityRetryMs, during which the provisioner is not asked (the pass ends).
 */
export class ResourcesPhase implements Phase<Planned, Provisioned> {
  private readonly d: ResourcesDependencies;

  constructor(deps: ResourcesDependencies) {
    this.d = deps;
  }

  async reconcile(ws: WorkingWorkspace, planned: Planned): Promise<Step<Provisioned>> {
    const backoff = this.capacityBackoff(ws);
    if (backoff > 0) return { result: { requeueAfterMs: backoff } };
    const { need, placement } = planned;
    const provisioner = this.d.provisioner;
    const resources = await provisioner.reconcile(ws, {
      instanceType: placement.instanceType,
      newNodes: placement.newNodes,
      existingNodes: placement.existingNodes,
      gpusPerNode: findSku(placement.instanceType)?.gpus ?? placement.gpusPerPod,
      osDiskGiB: osDiskGiB(need.kind === "preset" ? need.requirement.totalGpuMemoryGiB : undefined),
      shared: (placement.sharedNodes ?? []).map((s) => s.name),
    });
    ws.status.machines = resources.machines;
    const result = this.record(ws, resources);
    // Clear the failed launch; a fresh one is made once the back-off has passed.
    if (resources.kind === "launchFailed" && ws.resource.instanceType) await provisioner.clearFailed(ws);
    if (resources.kind === "ready") ws.status.workerNodes = [...resources.nodes].sort();
    return { result, next: { ...planned, resources } };
  }

  /**
   * A user-named size that failed to launch is tried again only after capacityRetryMs from the
   * failure, computed from the condition's transition time (a deadline, not polling).
   */
  private capacityBackoff(ws: WorkingWorkspace): number {
    if (!ws.resource.instanceType) return 0;
    const c = ws.status.conditions?.find((x) => x.type === "ResourceReady");
    if (c?.status !== "False" || !c.lastTransitionTime || !capacityFailureReasons.has(c.reason ?? ""))
      return 0;
    return Math.max(0, Date.parse(c.lastTransitionTime) + capacityRetryMs - this.d.clock.now());
  }

  private record(ws: WorkingWorkspace, r: ResourceState): Result {
    const condition = (status: ConditionStatus, reason: string, message: string) =>
      setWorkspaceCondition(ws, this.d.clock, "ResourceReady", status, reason, message);
    if (r.kind === "ready") {
      condition("True", "NodesReady", `${r.nodes.length} node(s) ready.`);
      return {};
    }
    if (r.kind === "waiting") {
      condition("Unknown", "WaitingForNodes", `${r.ready} of ${r.wanted} node(s) ready.`);
      return {};
    }
    const status = ws.status;
    const failed = new Set(status.failedInstanceTypes ?? []);
    failed.add(r.instanceType);
    status.failedInstanceTypes = [...failed].sort();
    if (ws.resource.instanceType) {
      // The user chose this size: report, and retry later in case capacity comes back.
      condition("False", r.reason, `${r.instanceType} could not be launched: ${r.message}`);
      this.d.recorder.event(
        ws,
        "Warning",
        r.reason,
        `${r.instanceType} could not be launched: ${r.message}; retrying in ${capacityRetryMs / 1000} s.`,
      );
      return { requeueAfterMs: capacityRetryMs };
    }
    delete status.placement;
    condition(
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
}
