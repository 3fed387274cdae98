import type { SharedNode, Workspace } from "../../crds/index.ts";
import { objectKey } from "../../kube/informer.ts";
import type { Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { PlannerClient } from "../../planner/grpc/index.ts";
import { labelKey, type SkuSpec } from "../../planner/packing/index.ts";
import { placeWorkloads, type Workload, type WorkloadPlacement } from "../../planner/placement/index.ts";
import { BatchWindows } from "../../planner/placement/window.ts";
import { nodeLabelsFor } from "./machines.ts";
import { nodeObjectName } from "../nodeprovision/index.ts";
import type { LaunchLimits } from "./offering.ts";
import {
  fromPolicy,
  isPlacementError,
  PlacementError,
  placementFailure,
  planningContext,
  problemNode,
  workloadOf,
  withSharedNodes,
  type ExistingGpuNode,
  type Placement,
  type PlanningContext,
  type Requirement,
} from "./placement.ts";

/** What the reconciler hands over for a workspace that needs the planner's choice. */
export interface BatchRequest {
  ws: Workspace;
  req: Requirement;
  existing: ExistingGpuNode[];
  /** Sizes that failed to launch for it. */
  excluded: readonly string[];
  limits?: LaunchLimits;
}

export type BatchAnswer =
  | { kind: "placed"; placement: Placement }
  | { kind: "failed"; error: PlacementError }
  /** Not yet: the batcher requeues the workspace when its plan is made; `ms` is a safety net. */
  | { kind: "wait"; ms: number };

export interface BatcherOptions {
  planner: PlannerClient;
  clock: Clock;
  /** Requeues a workspace (namespace/name) once its plan is made. */
  enqueue: (key: string) => void;
  /** The batching window (default 1 s idle, 10 s at most, as Karpenter batches pending pods). */
  idleMs?: number;
  maxMs?: number;
  log?: Logger;
}

/** How long after its window closes a waiting workspace is looked at again, should no requeue come. */
const SAFETY_MS = 30_000;

/**
 * Plans the workspaces that arrive together as one problem: workspaces with the same labels may
 * then share new nodes, which planning them one at a time never allows. A workspace that needs
 * the planner's choice joins the window of its labels (planner/placement/window.ts); when the
 * window closes, the batch is placed by kaito's placement policy (planner/placement), each
 * workspace's placement is kept until its reconcile takes it, and every workspace of the batch
 * is requeued. A node the batch shares is launched by its host, the first workspace on it; the
 * others list its Machine or NodeClaim in status.placement.sharedNodes and wait for it.
 *
 * The reconciler takes a placement once and stores it in status.placement, so a workspace's
 * plan, once chosen, stays as it is (plan.ts).
 */
export class PlacementBatcher {
  private readonly o: BatcherOptions;
  private readonly windows: BatchWindows<BatchRequest>;
  /**
   * Answers not yet taken, by namespace/name, for the workspace uid they were made for, with the
   * Machines or NodeClaims each will launch.
   */
  private readonly answers = new Map<
    string,
    { uid: string | undefined; answer: BatchAnswer; launches: ReadonlySet<string> }
  >();
  /** Workspaces whose batch is being planned. */
  private readonly planning = new Set<string>();

  constructor(options: BatcherOptions) {
    this.o = options;
    this.windows = new BatchWindows<BatchRequest>(
      { clock: options.clock, idleMs: options.idleMs ?? 1_000, maxMs: options.maxMs ?? 10_000 },
      (_, requests) => void this.plan(requests),
    );
  }

  /** The workspace's placement when its batch is planned; otherwise it joins (or waits for) one. */
  request(r: BatchRequest): BatchAnswer {
    const key = objectKey(r.ws);
    const done = this.answers.get(key);
    if (done && done.uid === r.ws.metadata?.uid) {
      this.answers.delete(key);
      return done.answer;
    }
    if (this.planning.has(key)) return { kind: "wait", ms: SAFETY_MS };
    const closesAt = this.windows.add(labelKey(nodeLabelsFor(r.ws)), key, r);
    return { kind: "wait", ms: closesAt - this.o.clock.now() + SAFETY_MS };
  }

  /** Forgets a workspace that is being deleted. */
  forget(ws: Workspace): void {
    const key = objectKey(ws);
    this.answers.delete(key);
    this.windows.remove(labelKey(nodeLabelsFor(ws)), key);
  }

  /** Whether a placement not yet taken has `host` (namespace/name) launch the node object `name`. */
  willLaunch(host: string, name: string): boolean {
    return this.answers.get(host)?.launches.has(name) ?? false;
  }

  private async plan(requests: BatchRequest[]): Promise<void> {
    const keys = requests.map((r) => objectKey(r.ws));
    for (const k of keys) this.planning.add(k);
    try {
      const answers = await this.place(requests);
      requests.forEach((r, i) => this.answers.set(keys[i]!, { uid: r.ws.metadata?.uid, ...answers[i]! }));
    } catch (e) {
      const error = isPlacementError(e)
        ? e
        : new PlacementError("NoCapacity", `the planner failed: ${errorMessage(e)}`);
      this.o.log?.warn("batch plan failed", { workspaces: keys, error: error.message });
      requests.forEach((r, i) =>
        this.answers.set(keys[i]!, {
          uid: r.ws.metadata?.uid,
          answer: { kind: "failed", error },
          launches: new Set(),
        }),
      );
    } finally {
      for (const k of keys) this.planning.delete(k);
      for (const k of keys) this.o.enqueue(k);
    }
  }

  /** The batch through the placement policy, each answer in the controller's terms. */
  private async place(
    requests: BatchRequest[],
  ): Promise<{ answer: BatchAnswer; launches: ReadonlySet<string> }[]> {
    // What each may use; a workspace with no size left fails alone, the others plan on.
    const contexts = await Promise.all(
      requests.map((r) =>
        planningContext(this.o.planner, r.excluded, r.limits).then(
          (ctx): { ctx: PlanningContext } => ({ ctx }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
    const catalog = new Map<string, SkuSpec>();
    const workloads: Workload[] = [];
    let quota: Record<string, number> = {};
    requests.forEach((r, i) => {
      const c = contexts[i]!;
      if (!("ctx" in c)) return;
      for (const sku of c.ctx.skus) catalog.set(sku.name, sku);
      quota = c.ctx.quota;
      workloads.push(workloadOf(r.ws, r.req, c.ctx.skus));
    });
    // Each request saw the nodes from its own side (its own pods' GPUs count as free to it): the
    // batch takes the least free GPUs any of them saw, and no node a member owns, since a member
    // being planned again may let its nodes go.
    const members = new Set(requests.map((r) => objectKey(r.ws)));
    const nodes = new Map<string, ExistingGpuNode>();
    for (const r of requests) {
      for (const n of r.existing) {
        if (n.shared && members.has(n.shared.launchedBy)) continue;
        const seen = nodes.get(n.name);
        if (!seen || n.freeGpus < seen.freeGpus) nodes.set(n.name, problemNode(n));
      }
    }
    const batch = await placeWorkloads(
      workloads,
      {
        catalog: [...catalog.values()],
        quota,
        nodes: [...nodes.values()],
      },
      (problem) => this.o.planner.plan(problem),
    );
    const outcomes = new Map(batch.outcomes.map((o) => [o.workload, o]));
    const workspaces = new Map(requests.map((r) => [objectKey(r.ws), r.ws]));
    /** The Machine or NodeClaim a host launches for its `index`-th new node of `sku`. */
    const hostObject = (host: string, sku: string, index: number) =>
      nodeObjectName(workspaces.get(host)!, sku, index);
    const hosted = new Map<string, WorkloadPlacement>();
    for (const o of batch.outcomes) if ("placement" in o) hosted.set(o.workload, o.placement);

    return requests.map((r, i) => {
      const c = contexts[i]!;
      const none = new Set<string>();
      if (!("ctx" in c)) {
        const error = isPlacementError(c.error)
          ? c.error
          : new PlacementError("NoCapacity", errorMessage(c.error));
        return { answer: { kind: "failed", error }, launches: none };
      }
      const o = outcomes.get(objectKey(r.ws))!;
      if ("failure" in o) {
        const error = placementFailure(r.ws, r.req, o.failure, c.ctx, r.existing);
        return { answer: { kind: "failed", error }, launches: none };
      }
      const p = o.placement;
      const sharedNodes: SharedNode[] = p.sharedNodes.map(({ node, host }) => {
        const nodes = hosted.get(host)!.newNodes;
        const index = nodes.findIndex((n) => n.name === node);
        return { name: hostObject(host, nodes[index]!.sku, index), launchedBy: host };
      });
      const placement: Placement = withSharedNodes(
        { ...fromPolicy(p), ...(sharedNodes.length ? { sharedNodes } : {}) },
        r.existing,
      );
      const launches = new Set(p.newNodes.map((n, index) => nodeObjectName(r.ws, n.sku, index)));
      return { answer: { kind: "placed", placement }, launches };
    });
  }
}
