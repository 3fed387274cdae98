import { errorMessage } from "../../lib/errors.ts";
import { instanceTypeLabel, zoneLabel, type Machine } from "../../crds/index.ts";
import type { ReconcileContext } from "../../kube/runtime/reconciler.ts";
import {
  isCreateError,
  isInsufficientCapacity,
  type CapacityReason,
  type InsufficientCapacityError,
} from "../cloud/errors.ts";
import type { Instance } from "../cloud/types.ts";
import { conditionOf, machineReasons, setMachineCondition, type MachineReason } from "./conditions.ts";
import { insufficientCapacityEvent, launchedEvent, launchFailedEvent } from "./events.ts";
import { publish, type Phase, type PhaseDependencies, type PhaseResult } from "./phase.ts";

/** The MachineLaunched reason for each way a SKU cannot be had. */
export const capacityConditionReason: Record<CapacityReason, MachineReason> = {
  quota: machineReasons.quotaExceeded,
  sku: machineReasons.skuNotAvailable,
  allocation: machineReasons.insufficientCapacity,
};

/**
 * MachineLaunched: asks the cloud for the instance until it exists. Settled once True, or once
 * False: a SKU the cloud cannot provide (or a launch that timed out) is never retried for this
 * Machine; the Workspace controller replans instead.
 */
export class Launch implements Phase {
  private readonly d: PhaseDependencies;
  constructor(deps: PhaseDependencies) {
    this.d = deps;
  }

  async reconcile(machine: Machine, ctx: ReconcileContext): Promise<PhaseResult> {
    const status = conditionOf(machine, "MachineLaunched")?.status;
    if (status === "True" || status === "False") return {};
    let instance: Instance;
    try {
      // The reconcile's signal aborts when leadership is lost: the cloud calls stop with it, as the
      // leader's API writes do (the fence).
      instance = await this.d.cloud.create(machine, { signal: ctx.signal });
    } catch (e) {
      // Nothing to record for a launch this manager stopped: the next leader calls create() again.
      if (ctx.signal.aborted) throw e;
      if (isInsufficientCapacity(e)) {
        ctx.log.info("the cloud cannot provide the SKU", { sku: e.sku, reason: e.reason, error: e.message });
        this.giveUp(machine, e);
        return {};
      }
      const reason = isCreateError(e) ? e.conditionReason : machineReasons.launchFailed;
      const message = isCreateError(e)
        ? e.conditionMessage
        : `launching the instance failed: ${errorMessage(e)}`;
      setMachineCondition(machine, "MachineLaunched", "Unknown", reason, message, this.d.clock.now());
      publish(this.d.recorder, machine, launchFailedEvent(message));
      this.d.metrics?.observeFailure(reason);
      throw e;
    }
    applyInstance(machine, instance);
    setMachineCondition(
      machine,
      "MachineLaunched",
      "True",
      machineReasons.launched,
      `launched ${instance.instanceType} in ${instance.zone}`,
      this.d.clock.now(),
    );
    publish(this.d.recorder, machine, launchedEvent(instance));
    ctx.log.info("launched", { providerID: instance.providerID, instanceType: instance.instanceType });
    return {};
  }

  private giveUp(machine: Machine, e: InsufficientCapacityError): void {
    const reason = capacityConditionReason[e.reason];
    setMachineCondition(machine, "MachineLaunched", "False", reason, e.message, this.d.clock.now());
    publish(this.d.recorder, machine, insufficientCapacityEvent(reason, e));
    this.d.metrics?.observeFailure(reason);
    this.d.onCapacityFailure?.(e);
  }
}

/**
 * Records the instance on the Machine: providerID, capacity and (until the node says otherwise)
 * allocatable in the status, and the instance type and zone as labels where the Machine left the
 * choice to the cloud, so `kubectl get machines` shows them.
 */
export function applyInstance(machine: Machine, instance: Instance): void {
  machine.status = {
    ...machine.status,
    providerID: instance.providerID,
    capacity: { ...instance.capacity },
    allocatable: { ...instance.capacity },
  };
  const meta = (machine.metadata ??= {});
  const labels = { ...meta.labels };
  if (instance.instanceType) labels[instanceTypeLabel] ??= instance.instanceType;
  if (instance.zone) labels[zoneLabel] ??= instance.zone;
  meta.labels = labels;
}
