import { isDeepStrictEqual } from "node:util";
import { errorMessage } from "../../lib/errors.ts";
import { terminationFinalizer, type Machine } from "../../crds/index.ts";
import type { ReconcileContext, Reconciler, Result } from "../../kube/runtime/reconciler.ts";
import { minResult } from "../../kube/runtime/reconciler.ts";
import { isConflict } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";
import { readiness, setMachineCondition } from "./conditions.ts";
import { Initialization } from "./initialization.ts";
import { Launch } from "./launch.ts";
import { defaultLivenessOptions, Liveness, type LivenessOptions } from "./liveness.ts";
import type { Phase, PhaseDependencies, PhaseResult } from "./phase.ts";
import { Registration } from "./registration.ts";
import { SupersededVersions } from "../../kube/runtime/superseded.ts";
import { defaultTerminationOptions, Termination, type TerminationOptions } from "./termination.ts";

export const machineControllerName = "machine";

export interface MachineControllerOptions extends PhaseDependencies {
  liveness?: Partial<LivenessOptions>;
  termination?: Partial<TerminationOptions>;
  /** How soon a pass whose write lost a race runs again (the informer has news by then). */
  conflictRetryMs?: number;
}

/**
 * The Machine lifecycle (Karpenter's, for karpenter.sh/v1alpha5 Machines). A deleted Machine is
 * terminated; any other gets the termination finalizer, then launch, registration,
 * initialization and liveness run in that order on one in-memory copy, Ready summarises them,
 * and the status is written once. The pass requeues for the soonest deadline any phase named,
 * and rethrows (after writing what it learnt) when a phase failed.
 */
export class MachineController implements Reconciler<Machine> {
  private readonly d: MachineControllerOptions;
  private readonly phases: Phase[];
  private readonly termination: Termination;
  private readonly written = new SupersededVersions();

  constructor(options: MachineControllerOptions) {
    this.d = options;
    this.phases = [
      new Launch(options),
      new Registration(options),
      new Initialization(options),
      new Liveness(options, { ...defaultLivenessOptions, ...options.liveness }),
    ];
    this.termination = new Termination(options, { ...defaultTerminationOptions, ...options.termination });
  }

  async reconcile(original: Machine, ctx: ReconcileContext): Promise<Result> {
    const name = original.metadata?.name ?? "";
    if (this.written.superseded(name, original.metadata?.resourceVersion)) {
      // The informer has not delivered our last write yet; acting on this copy would redo work.
      return { requeueAfterMs: this.d.conflictRetryMs ?? 200 };
    }
    if (original.metadata?.deletionTimestamp) {
      const result = await this.termination.reconcile(original, ctx);
      if (result.requeueAfterMs === undefined) this.written.forget(name);
      return result;
    }
    try {
      return await this.lifecycle(original, ctx);
    } catch (e) {
      if (!isConflict(e)) throw e;
      ctx.log.debug("the Machine changed during the pass; running it again");
      return { requeueAfterMs: this.d.conflictRetryMs ?? 200 };
    }
  }

  private async lifecycle(original: Machine, ctx: ReconcileContext): Promise<Result> {
    let machine = original;
    if (!machine.metadata?.finalizers?.includes(terminationFinalizer)) {
      // Before anything exists in the cloud, so nothing can be created that deletion would not clean up.
      machine = await this.d.client.update<Machine>(resources.machines, {
        ...machine,
        metadata: {
          ...machine.metadata,
          finalizers: [...(machine.metadata?.finalizers ?? []), terminationFinalizer],
        },
      });
      this.written.record(machine.metadata!.name!, original.metadata?.resourceVersion);
    }
    const before = structuredClone(machine);
    const wasReady =
      before.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

    const results: PhaseResult[] = [];
    const errors: unknown[] = [];
    for (const phase of this.phases) {
      try {
        const r = await phase.reconcile(machine, ctx);
        if (r.deleted) return {};
        results.push(r);
      } catch (e) {
        errors.push(e);
      }
    }
    if (!wasReady) this.d.metrics?.observeProvisioning(machine);
    const ready = readiness(machine);
    setMachineCondition(machine, "Ready", ready.status, ready.reason, ready.message, this.d.clock.now());

    await this.persist(before, machine);
    if (!wasReady && ready.status === "True") this.d.metrics?.observeReady(machine, this.d.clock.now());
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map(errorMessage).join("; "));
    return minResult(...results);
  }

  /**
   * Writes labels (when launch chose an instance type or zone) and then the status, each only if
   * changed, both conditional on the resourceVersion the pass read: a conflict means the pass
   * worked from an old copy, and the next pass redoes it from the new one.
   */
  private async persist(before: Machine, machine: Machine): Promise<void> {
    const name = machine.metadata!.name!;
    let resourceVersion = machine.metadata?.resourceVersion;
    if (!isDeepStrictEqual(before.metadata?.labels ?? {}, machine.metadata?.labels ?? {})) {
      const updated = await this.d.client.update<Machine>(resources.machines, {
        ...before,
        metadata: { ...before.metadata, labels: machine.metadata!.labels },
      });
      this.written.record(name, resourceVersion);
      resourceVersion = updated.metadata?.resourceVersion;
    }
    if (isDeepStrictEqual(before.status ?? {}, machine.status ?? {})) return;
    await this.d.client.updateStatus<Machine>(resources.machines, {
      ...machine,
      metadata: { ...machine.metadata, resourceVersion },
    });
    this.written.record(name, resourceVersion);
  }
}
