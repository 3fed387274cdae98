import { workspaceLabel, workspaceNamespaceLabel, type Machine, type Workspace } from "../../crds/index.ts";
import { findSku } from "../../planner/catalog/index.ts";
import type { KubeClient } from "../../kube/client.ts";
import { ignoreNotFound, isAlreadyExists } from "../../kube/errors.ts";
import { findCondition } from "../../kube/conditions.ts";
import { resources as api } from "../../kube/resources.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { desiredMachine, machineInstanceType } from "./machines.ts";
import type { Placement } from "./placement.ts";

/** MachineLaunched reasons that mean "this SKU cannot be had now": replan, don't retry. */
export const capacityFailureReasons: ReadonlySet<string> = new Set([
  "InsufficientCapacity",
  "QuotaExceeded",
  "SkuNotAvailable",
  "AllocationFailed",
]);

export type ResourceState =
  | { kind: "ready"; nodes: string[]; machines: string[] }
  | { kind: "waiting"; ready: number; wanted: number; machines: string[] }
  | { kind: "launchFailed"; instanceType: string; reason: string; message: string; machines: string[] };

export function machinesOf(ws: Workspace, all: readonly Machine[]): Machine[] {
  return all.filter(
    (m) =>
      m.metadata?.labels?.[workspaceLabel] === ws.metadata!.name &&
      m.metadata?.labels?.[workspaceNamespaceLabel] === ws.metadata!.namespace,
  );
}

const isReady = (m: Machine) => findCondition(m.status?.conditions, "Ready")?.status === "True";

/**
 * Makes the workspace's Machines match the placement: creates the missing ones under their
 * deterministic names, deletes the ones no longer wanted, and reports a launch that failed for
 * lack of capacity so the caller can replan.
 */
export async function reconcileMachines(
  ws: Workspace,
  placement: Placement,
  cached: readonly Machine[],
  client: KubeClient,
  recorder: EventRecorder,
): Promise<ResourceState> {
  const sku = findSku(placement.instanceType);
  const desired = Array.from({ length: placement.newNodes }, (_, i) =>
    desiredMachine(ws, { name: placement.instanceType, gpus: sku?.gpus ?? 1 }, i),
  );
  const wanted = new Set(desired.map((m) => m.metadata!.name!));
  const mine = machinesOf(ws, cached);

  for (const m of mine) {
    if (!wanted.has(m.metadata!.name!) && !m.metadata?.deletionTimestamp) {
      await client.delete(api.machines, m.metadata!.name!).catch(ignoreNotFound);
      recorder.event(
        ws,
        "Normal",
        "MachineDeleted",
        `Deleted Machine ${m.metadata!.name} (${machineInstanceType(m) ?? "?"}): no longer in the plan.`,
      );
    }
  }
  const current = new Map(mine.map((m) => [m.metadata!.name!, m]));
  const machines = [...wanted].sort();

  for (const m of mine) {
    const launched = findCondition(m.status?.conditions, "MachineLaunched");
    if (
      wanted.has(m.metadata!.name!) &&
      launched?.status === "False" &&
      capacityFailureReasons.has(launched.reason ?? "")
    ) {
      return {
        kind: "launchFailed",
        instanceType: machineInstanceType(m) ?? placement.instanceType,
        reason: launched.reason!,
        message: launched.message ?? `${launched.reason} for ${placement.instanceType}`,
        machines,
      };
    }
  }
  for (const m of desired) {
    if (current.has(m.metadata!.name!)) continue;
    try {
      await client.create(api.machines, m);
      recorder.event(
        ws,
        "Normal",
        "MachineCreated",
        `Created Machine ${m.metadata!.name} (${placement.instanceType}).`,
      );
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  const usable = (m: Machine | undefined) =>
    !!m && !m.metadata?.deletionTimestamp && isReady(m) && !!m.status?.nodeName;
  const ready = desired.filter((d) => usable(current.get(d.metadata!.name!)));
  // Machines another workspace of the same batch launches: waited for, never created here.
  const byName = new Map(cached.map((m) => [m.metadata!.name!, m]));
  const shared = (placement.sharedMachines ?? []).map((s) => byName.get(s.machine));
  const sharedReady = shared.filter(usable);
  if (ready.length === desired.length && sharedReady.length === shared.length) {
    const nodes = ready.map((d) => current.get(d.metadata!.name!)!.status!.nodeName!);
    const sharedNodes = sharedReady.map((m) => m!.status!.nodeName!);
    return { kind: "ready", nodes: [...placement.existingNodes, ...nodes, ...sharedNodes], machines };
  }
  return {
    kind: "waiting",
    ready: ready.length + sharedReady.length,
    wanted: desired.length + shared.length,
    machines,
  };
}

/** Deletes every Machine of the workspace; true once none is left. */
export async function deleteMachines(
  ws: Workspace,
  cached: readonly Machine[],
  client: KubeClient,
): Promise<boolean> {
  const mine = machinesOf(ws, cached);
  for (const m of mine) {
    if (!m.metadata?.deletionTimestamp)
      await client.delete(api.machines, m.metadata!.name!).catch(ignoreNotFound);
  }
  return mine.length === 0;
}
