import type { ReconcileContext } from "../../../kube/runtime/reconciler.ts";
import { reusableNodes } from "../nodes.ts";
import type { Placement } from "../placement.ts";
import { placementDecision } from "../plan.ts";
import { modelNeed, type ModelNeed } from "../requirement.ts";
import {
  setWorkspaceCondition,
  type Phase,
  type Step,
  type WorkingWorkspace,
  type WorkspaceDependencies,
} from "./phase.ts";

/** What the placement phase hands the nodes phase. */
export interface Planned {
  need: ModelNeed;
  placement: Placement;
}

type PlacementDependencies = Pick<
  WorkspaceDependencies,
  | "planner"
  | "recorder"
  | "clock"
  | "provisioner"
  | "nodes"
  | "pods"
  | "workspaces"
  | "offering"
  | "models"
  | "batcher"
>;

/**
 * The model's need, then where it runs: the user's instance type, the stored plan while it holds,
 * or the planner's choice (batched with the workspaces that arrived with it). Records the
 * placement on status; a fresh plan is announced with PlanChosen (and CountAdjusted). While the
 * batch gathers, ResourceReady is Unknown "Planning" and the pass ends.
 */
export class PlacementPhase implements Phase<void, Planned> {
  private readonly d: PlacementDependencies;

  constructor(deps: PlacementDependencies) {
    this.d = deps;
  }

  async reconcile(ws: WorkingWorkspace, _input: void, ctx: ReconcileContext): Promise<Step<Planned>> {
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
      setWorkspaceCondition(
        ws,
        this.d.clock,
        "ResourceReady",
        "Unknown",
        "Planning",
        "Waiting for the workspaces that arrived with it, to plan them together.",
      );
      return { result: { requeueAfterMs: decision.pendingMs } };
    }
    const { placement, replanned } = decision;
    this.record(ws, placement, replanned);
    return { result: {}, next: { need, placement } };
  }

  private record(ws: WorkingWorkspace, p: Placement, replanned: boolean): void {
    const status = ws.status;
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
    if (!replanned) return;
    const shared = p.sharedNodes?.length
      ? ` and ${p.sharedNodes.length} node(s) it shares with ${[...new Set(p.sharedNodes.map((s) => s.launchedBy))].join(", ")}`
      : "";
    const reuse = (p.existingNodes.length ? ` and ${p.existingNodes.length} existing node(s)` : "") + shared;
    this.d.recorder.event(
      ws,
      "Normal",
      "PlanChosen",
      `The planner chose ${p.newNodes} × ${p.instanceType}${reuse} at $${p.costPerHour.toFixed(2)}/h for ${p.replicas} replica(s) of ${p.gpusPerPod} GPU(s).`,
    );
    if (p.countAdjusted) this.d.recorder.event(ws, "Warning", "CountAdjusted", p.countAdjusted);
  }
}
