import type { Clock } from "../../lib/clock.ts";
import type { Machine } from "../../crds/index.ts";
import type { KubeClient } from "../../kube/client.ts";
import { ignoreNotFound } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { ReconcileContext, Result } from "../../kube/runtime/reconciler.ts";
import type { CloudProvider, InsufficientCapacityError } from "../cloud/types.ts";
import type { MachineEvent } from "./events.ts";
import type { ProvisionerMetrics } from "./metrics.ts";
import type { NodeReader } from "./nodes.ts";

/** What every phase of the Machine controller may use. */
export interface PhaseDependencies {
  client: KubeClient;
  cloud: CloudProvider;
  clock: Clock;
  recorder: EventRecorder;
  nodes: NodeReader;
  metrics?: ProvisionerMetrics;
  /**
   * Told of every launch the cloud refused for quota, SKU or capacity: what the cloud offers has
   * changed since it was last read (the offering cache reads it again early).
   */
  onCapacityFailure?: (e: InsufficientCapacityError) => void;
}

export interface PhaseResult extends Result {
  /** The phase deleted the Machine: the parent writes nothing more this pass. */
  deleted?: boolean;
}

/**
 * One step of the lifecycle. It owns one condition (or deadline), mutates the in-memory Machine
 * the parent passes to every phase, and throws to have the pass retried with backoff.
 */
export interface Phase {
  reconcile(machine: Machine, ctx: ReconcileContext): Promise<PhaseResult>;
}

export function publish(recorder: EventRecorder, machine: Machine, event: MachineEvent): void {
  recorder.event(machine, event.type, event.reason, event.message);
}

/** Deletes the Machine (its finalizer then cleans up); one already gone is fine. */
export async function deleteMachine(d: Pick<PhaseDependencies, "client">, machine: Machine): Promise<void> {
  await d.client
    .delete(resources.machines, machine.metadata!.name!, undefined, { uid: machine.metadata?.uid })
    .catch(ignoreNotFound);
}
