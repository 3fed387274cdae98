import type { Machine } from "../../crds/index.ts";
import type { ReconcileContext } from "../../kube/runtime/reconciler.ts";
import { conditionOf, isConditionTrue, machineReasons, setMachineCondition } from "./conditions.ts";
import { launchTimeoutEvent, registrationTimeoutEvent } from "./events.ts";
import { deleteMachine, publish, type Phase, type PhaseDependencies, type PhaseResult } from "./phase.ts";

export interface LivenessOptions {
  /** A launched Machine whose node has not registered after this long is deleted (default 15 min). */
  registrationTimeoutMs: number;
  /** A launch still failing this long after its first failure gives up (default 10 min). */
  launchTimeoutMs: number;
}

export const defaultLivenessOptions: LivenessOptions = {
  registrationTimeoutMs: 15 * 60_000,
  launchTimeoutMs: 10 * 60_000,
};

function since(machine: Machine, type: "MachineLaunched", status: "True" | "Unknown"): number | undefined {
  const c = conditionOf(machine, type);
  if (c?.status !== status) return undefined;
  const at = Date.parse(c.lastTransitionTime ?? "");
  return Number.isNaN(at) ? undefined : at;
}

/** When an unregistered, launched Machine is given up on; undefined when no deadline applies. */
export function registrationDeadline(machine: Machine, timeoutMs: number): number | undefined {
  if (isConditionTrue(machine, "MachineRegistered")) return undefined;
  const launchedAt = since(machine, "MachineLaunched", "True");
  return launchedAt === undefined ? undefined : launchedAt + timeoutMs;
}

/** When a launch that keeps failing is given up on; undefined when it is not failing. */
export function launchDeadline(machine: Machine, timeoutMs: number): number | undefined {
  const failingSince = since(machine, "MachineLaunched", "Unknown");
  return failingSince === undefined ? undefined : failingSince + timeoutMs;
}

/**
 * The deadlines of the lifecycle, computed from the conditions' lastTransitionTime: a pass
 * requeues for the moment the deadline falls instead of polling, and acts only once it has.
 */
export class Liveness implements Phase {
  private readonly d: PhaseDependencies;
  private readonly o: LivenessOptions;
  constructor(deps: PhaseDependencies, options: LivenessOptions = defaultLivenessOptions) {
    this.d = deps;
    this.o = options;
  }

  async reconcile(machine: Machine, ctx: ReconcileContext): Promise<PhaseResult> {
    const now = this.d.clock.now();
    const launchBy = launchDeadline(machine, this.o.launchTimeoutMs);
    if (launchBy !== undefined) {
      if (now < launchBy) return { requeueAfterMs: launchBy - now };
      const last = conditionOf(machine, "MachineLaunched")?.message ?? "";
      const message = `the instance did not launch within ${minutes(this.o.launchTimeoutMs)} minutes; last error: ${last}`;
      setMachineCondition(machine, "MachineLaunched", "False", machineReasons.launchTimeout, message, now);
      publish(this.d.recorder, machine, launchTimeoutEvent(message));
      this.d.metrics?.observeFailure(machineReasons.launchTimeout);
      return {};
    }
    const registerBy = registrationDeadline(machine, this.o.registrationTimeoutMs);
    if (registerBy === undefined) return {};
    if (now < registerBy) return { requeueAfterMs: registerBy - now };
    publish(this.d.recorder, machine, registrationTimeoutEvent(minutes(this.o.registrationTimeoutMs)));
    this.d.metrics?.observeFailure("RegistrationTimeout");
    ctx.log.info("node did not register in time, deleting the Machine");
    await deleteMachine(this.d, machine);
    return { deleted: true };
  }
}

const minutes = (ms: number) => Math.round(ms / 60_000);
