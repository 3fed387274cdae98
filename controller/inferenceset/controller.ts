/**
 * Turns an InferenceSet into `spec.replicas` Workspaces, one pass at a time on one copy:
 * scale down (the replicas whose removal frees the most cost) → roll outdated replicas (the
 * template changed; at most maxUnavailable at once) → scale up (lowest free indices, within
 * spec.nodeCountLimit) → status (replicas, readyReplicas, selector, InferenceSetReady), written
 * once through the status subresource. Level-triggered: every pass reads the replicas from the
 * informer and acts on the difference, so a crash between two writes is repaired by the next.
 *
 * Deletion: the set's finalizer holds it while the controller deletes its replicas (their own
 * finalizers remove their nodes), as KAITO's does, and lets it go once none is left. Replicas
 * also carry a controller ownerReference with blockOwnerDeletion, so the garbage collector
 * removes any left behind should the finalizer ever be removed by hand; it alone would be slow
 * (it learns of new kinds on its discovery resync, about 30 s).
 */
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import {
  inferenceSetCreatedByLabel,
  instanceTypeLabel,
  workspaceLabel,
  type InferenceSet,
  type InferenceSetCondition,
  type InferenceSetConditionType,
} from "../../crds/index.ts";
import type { Clock } from "../../lib/clock.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { setCondition, topLevelMergePatch } from "../../kube/conditions.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../../kube/errors.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { objectKey, type Informer } from "../../kube/informer.ts";
import { resources as api } from "../../kube/resources.ts";
import type { ReconcileContext, Reconciler, Result } from "../../kube/runtime/reconciler.ts";
import { findSku } from "../../planner/catalog/index.ts";
import { creatableWithin, nodesInUse, type ReplicaNodes } from "./limit.ts";
import {
  freeIndices,
  isCurrent,
  isReady,
  replicaIndex,
  replicaManifest,
  replicasOf,
  type Replica,
} from "./replicas.ts";
import { pickForRemoval, type NodeUse, type ReplicaCost } from "./scale-down.ts";
import { Expectations } from "./expectations.ts";

export type IS = InferenceSet & KubeObject;

export const inferenceSetFinalizer = "inferenceset.kaito.sh/finalizer";

export interface InferenceSetDependencies {
  client: KubeClient;
  recorder: EventRecorder;
  clock: Clock;
  workspaces: Informer<Replica>;
  pods: Informer<V1Pod & KubeObject>;
  nodes: Informer<V1Node & KubeObject>;
}

/** What a pass did, for the status it writes. */
interface Pass {
  desired: number;
  /** New replicas held back by spec.nodeCountLimit. */
  heldBack: number;
  removing: number;
  updating: number;
}

export class InferenceSetReconciler implements Reconciler<IS> {
  private readonly d: InferenceSetDependencies;
  private readonly expectations: Expectations;

  constructor(deps: InferenceSetDependencies) {
    this.d = deps;
    this.expectations = new Expectations(deps.clock);
  }

  async reconcile(set: IS, _ctx: ReconcileContext): Promise<Result> {
    const before = structuredClone(set.status ?? {}) as Record<string, unknown>;
    set.status ??= {};
    if (set.metadata?.deletionTimestamp) {
      this.condition(
        set,
        "InferenceSetDeleting",
        "True",
        "DeletingReplicas",
        "The replicas' Workspaces are being deleted.",
      );
      await this.writeStatus(set, before);
      return {};
    }
    const key = objectKey(set);
    // Act only on a cache that shows this controller's last creates and deletes.
    if (!this.expectations.satisfied(key, replicasOf(set, this.d.workspaces.list())))
      return { requeueAfterMs: this.expectations.remainingMs(key) };
    const desired = set.spec.replicas ?? 1;
    const pass: Pass = { desired, heldBack: 0, removing: 0, updating: 0 };
    const all = () => replicasOf(set, this.d.workspaces.list());
    const live = () => all().filter((w) => !w.metadata?.deletionTimestamp);

    const gone = new Set<string>();
    const current = live();
    if (current.length > desired) {
      pass.removing = current.length - desired;
      for (const r of this.scaleDownChoice(set, current, pass.removing))
        await this.remove(set, r, gone, "ScaledDown");
    } else {
      pass.updating = await this.rollOutdated(set, current, gone);
    }
    const remaining = live().filter((w) => !gone.has(w.metadata!.name!));
    if (remaining.length < desired) await this.scaleUp(set, remaining, desired - remaining.length, pass);
    this.recordStatus(
      set,
      live().filter((w) => !gone.has(w.metadata!.name!)),
      pass,
    );
    await this.writeStatus(set, before);
    return {};
  }

  /** Deletes every replica, and lets the set go once none is left. */
  private async finalize(set: IS, before: Record<string, unknown>): Promise<Result> {
    if (!set.metadata?.finalizers?.includes(inferenceSetFinalizer)) return {};
    const replicas = replicasOf(set, this.d.workspaces.list());
    if (replicas.length > 0) {
      for (const w of replicas.filter((r) => !r.metadata?.deletionTimestamp))
        await this.remove(set, w, new Set(), "SetDeleted");
      this.condition(
        set,
        "InferenceSetDeleting",
        "True",
        "DeletingReplicas",
        `Waiting for ${replicas.length} replica Workspace(s) to be deleted.`,
      );
      await this.writeStatus(set, before);
      return {};
    }
    await this.d.client.patch(
      api.inferenceSets,
      set.metadata.name!,
      set.metadata.namespace,
      {
        metadata: {
          finalizers: set.metadata.finalizers.filter((f) => f !== inferenceSetFinalizer),
          resourceVersion: set.metadata.resourceVersion,
        },
      },
      "merge",
    );
    return {};
  }

  private scaleDownChoice(set: IS, replicas: readonly Replica[], count: number): Replica[] {
    const costs: ReplicaCost[] = replicas.map((w) => ({
      name: w.metadata!.name!,
      index: replicaIndex(set, w.metadata!.name!) ?? Number.MAX_SAFE_INTEGER,
      ready: isReady(w),
      nodes: w.status?.workerNodes ?? [],
    }));
    const chosen = new Set(
      pickForRemoval(costs, count, set.metadata!.namespace!, this.nodeUse()).map((c) => c.name),
    );
    return replicas.filter((w) => chosen.has(w.metadata!.name!));
  }

  /** Node prices from the catalogue by instance type, and the workloads on each node from their GPU pods. */
  private nodeUse(): NodeUse {
    const pricePerHour = new Map<string, number>();
    for (const n of this.d.nodes.list()) {
      const sku = findSku(n.metadata?.labels?.[instanceTypeLabel] ?? "");
      if (sku) pricePerHour.set(n.metadata!.name!, sku.pricePerHour);
    }
    const users = new Map<string, Set<string>>();
    for (const p of this.d.pods.list()) {
      const node = p.spec?.nodeName;
      const ws = p.metadata?.labels?.[workspaceLabel];
      if (!node || p.status?.phase === "Succeeded" || p.status?.phase === "Failed") continue;
      const user = ws ? `${p.metadata!.namespace}/${ws}` : `${p.metadata!.namespace}/pod/${p.metadata!.name}`;
      users.set(node, (users.get(node) ?? new Set()).add(user));
    }
    return { pricePerHour, users };
  }

  /**
   * Replicas made from an older template are replaced (RollingUpdate, the default): deleted while
   * no more than maxUnavailable replicas are unavailable, the replacement created by scale-up.
   * OnDelete leaves them until the user deletes them.
   */
  private async rollOutdated(set: IS, live: readonly Replica[], gone: Set<string>): Promise<number> {
    const outdated = live.filter((w) => !isCurrent(set, w));
    if (outdated.length === 0 || set.spec.updateStrategy?.type === "OnDelete") return outdated.length;
    const desired = set.spec.replicas ?? 1;
    const unavailable = desired - live.filter((w) => isReady(w)).length;
    let budget = maxUnavailable(set, desired) - Math.max(0, unavailable);
    const order = [...outdated].sort(
      (a, b) =>
        Number(isReady(a)) - Number(isReady(b)) ||
        (replicaIndex(set, b.metadata!.name!) ?? 0) - (replicaIndex(set, a.metadata!.name!) ?? 0),
    );
    for (const w of order) {
      // A replica that is not serving costs no availability to replace.
      if (isReady(w)) {
        if (budget <= 0) break;
        budget--;
      }
      await this.remove(set, w, gone, "ReplicaOutdated");
    }
    return outdated.length;
  }

  private async scaleUp(set: IS, live: readonly Replica[], missing: number, pass: Pass): Promise<void> {
    const nodes: ReplicaNodes[] = replicasOf(set, this.d.workspaces.list()).map((w) => ({
      nodes: w.status?.workerNodes ?? [],
      target: w.status?.targetNodeCount,
    }));
    const allowed = creatableWithin(set.spec.nodeCountLimit, nodes, missing);
    pass.heldBack = missing - allowed;
    if (allowed === 0) return;
    // Indices any Workspace of the namespace holds (ours, terminating ones, or a stranger's).
    const taken = this.d.workspaces
      .list()
      .filter((w) => w.metadata?.namespace === set.metadata!.namespace)
      .map((w) => replicaIndex(set, w.metadata!.name!))
      .filter((i): i is number => i !== undefined);
    for (const index of freeIndices(taken, allowed)) {
      const manifest = replicaManifest(set, index);
      this.expectations.created(objectKey(set), manifest.metadata!.name!);
      try {
        await this.d.client.create(api.workspaces, manifest);
      } catch (e) {
        this.expectations.notCreated(objectKey(set), manifest.metadata!.name!);
        // Made by an earlier pass the informer has not shown yet, or a name someone else took:
        // either way the next pass sees it and moves on.
        if (isAlreadyExists(e)) continue;
        throw e;
      }
      this.d.recorder.event(
        set,
        "Normal",
        "ReplicaCreated",
        `Created Workspace ${manifest.metadata!.name} (${live.length + 1} of ${set.spec.replicas ?? 1}).`,
      );
    }
  }

  /** Deletes a replica, only if it is still the one we chose (uid precondition). */
  private async remove(set: IS, w: Replica, gone: Set<string>, reason: string): Promise<void> {
    this.expectations.deleted(objectKey(set), w.metadata!.uid!);
    try {
      await this.d.client.delete(api.workspaces, w.metadata!.name!, w.metadata!.namespace, {
        uid: w.metadata!.uid,
      });
    } catch (e) {
      if (!isNotFound(e) && !isConflict(e)) throw e;
    }
    gone.add(w.metadata!.name!);
    const why =
      reason === "ScaledDown"
        ? `spec.replicas is ${set.spec.replicas ?? 1}`
        : reason === "SetDeleted"
          ? "the InferenceSet is being deleted"
          : "it was made from an older template";
    this.d.recorder.event(set, "Normal", reason, `Deleting Workspace ${w.metadata!.name}: ${why}.`);
  }

  private recordStatus(set: IS, live: readonly Replica[], pass: Pass): void {
    const status = set.status!;
    const ready = live.filter((w) => isReady(w)).length;
    status.replicas = live.length;
    status.readyReplicas = ready;
    status.selector = `${inferenceSetCreatedByLabel}=${set.metadata!.name}`;
    status.nodeCount = nodesInUse(
      live.map((w) => ({ nodes: w.status?.workerNodes ?? [], target: w.status?.targetNodeCount })),
    );
    status.observedGeneration = set.metadata?.generation;
    const upToDate = live.every((w) => isCurrent(set, w));
    if (pass.heldBack > 0) {
      this.condition(
        set,
        "InferenceSetReady",
        "False",
        "NodeCountLimitReached",
        `spec.nodeCountLimit ${set.spec.nodeCountLimit} leaves room for ${pass.desired - pass.heldBack} of ${pass.desired} replicas (${status.nodeCount} node(s) in use); raise nodeCountLimit or lower replicas.`,
      );
    } else if (ready === pass.desired && live.length === pass.desired && upToDate) {
      this.condition(
        set,
        "InferenceSetReady",
        "True",
        "ReplicasReady",
        `${ready} of ${pass.desired} replica(s) ready.`,
      );
    } else {
      const reason = pass.removing > 0 ? "ScalingDown" : !upToDate ? "Updating" : "WaitingForReplicas";
      this.condition(
        set,
        "InferenceSetReady",
        "False",
        reason,
        `${ready} of ${pass.desired} replica(s) ready.`,
      );
    }
  }

  private condition(
    set: IS,
    type: InferenceSetConditionType,
    status: "True" | "False" | "Unknown",
    reason: string,
    message: string,
  ): void {
    set.status!.conditions = setCondition(
      set.status!.conditions as InferenceSetCondition[] | undefined,
      { type, status, reason, message, observedGeneration: set.metadata?.generation },
      this.d.clock.now(),
    );
  }

  /** The set's controller is the only writer of its status: a merge patch of what changed. */
  private async writeStatus(set: IS, before: Record<string, unknown>): Promise<void> {
    const patch = topLevelMergePatch(before, set.status as Record<string, unknown>);
    if (Object.keys(patch).length === 0) return;
    try {
      await this.d.client.patch(
        api.inferenceSets,
        set.metadata!.name!,
        set.metadata!.namespace,
        { status: patch },
        "merge",
        {
          subresource: "status",
        },
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

/** spec.updateStrategy.rollingUpdate.maxUnavailable as a count (a percentage rounds down), at least 1. */
export function maxUnavailable(set: InferenceSet, desired: number): number {
  const v = set.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  if (typeof v === "number") return Math.max(1, v);
  const percent = /^(\d+)%$/.exec(v);
  return Math.max(1, percent ? Math.floor((desired * Number(percent[1])) / 100) : 1);
}
