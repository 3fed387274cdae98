import type { WorkspaceConditionType } from "../../../crds/index.ts";
import type { ConditionStatus } from "../../../kube/conditions.ts";
import { errorMessage, isUserError } from "../../../lib/errors.ts";
import { TerminalError, type Result } from "../../../kube/runtime/reconciler.ts";
import { isHuggingFaceError } from "../../../presets/index.ts";
import { isWorkloadConfigError } from "../configmaps.ts";
import { isModelAccessSecretError } from "../models.ts";
import { isForeignObjectError } from "../ownership.ts";
import { isPlacementError } from "../placement.ts";
import {
  capacityRetryMs,
  setWorkspaceCondition,
  type WorkingWorkspace,
  type WorkspaceDependencies,
} from "./phase.ts";

/** A refused model (unknown, gated, bad token, missing Secret) is looked at again after this. */
export const modelRetryMs = 60_000;
/** A missing or broken config ConfigMap is looked at again after this long (ConfigMaps are not watched). */
export const configRetryMs = 30_000;
/** Capacity, quota and the sizes on offer change without the Workspace changing: looked at again after this. */
export const placementRetryMs = 5 * capacityRetryMs;

/** Refusals of the model itself; an unreachable Hub is retried with backoff instead. */
function isModelRefusal(e: unknown): e is Error {
  return (isHuggingFaceError(e) && !e.retryable) || isModelAccessSecretError(e);
}

/**
 * The one list of failures a pass reports on status and then absorbs: each is retried on its own
 * timer (recordFailure's requeue) or when the Workspace or a watched object changes. Anything else
 * is rethrown after the status is written, for the queue's backoff.
 */
function isReported(e: unknown): boolean {
  return (
    isUserError(e) ||
    isPlacementError(e) ||
    isWorkloadConfigError(e) ||
    isModelRefusal(e) ||
    isForeignObjectError(e)
  );
}

/**
 * What the pass throws once the status is written, if anything: bad input stops (TerminalError,
 * never retried: only a new generation helps), the reported failures are absorbed, and the rest
 * (an API server or planner that failed) goes back to the queue as it was.
 */
export function thrownAfterStatus(e: unknown): { error: unknown } | undefined {
  if (isUserError(e)) return { error: new TerminalError(errorMessage(e)) };
  if (isReported(e)) return undefined;
  return { error: e };
}

type FailureDependencies = Pick<WorkspaceDependencies, "recorder" | "clock">;

/**
 * A failed pass on the status: bad input and impossible placements become conditions (and
 * events) that say what to fix; anything unexpected is WorkspaceReady Unknown "ReconcileError".
 */
export class Failures {
  private readonly d: FailureDependencies;

  constructor(deps: FailureDependencies) {
    this.d = deps;
  }

  record(ws: WorkingWorkspace, e: unknown): Result {
    const condition = (type: WorkspaceConditionType, status: ConditionStatus, reason: string, text: string) =>
      setWorkspaceCondition(ws, this.d.clock, type, status, reason, text);
    const message = errorMessage(e);
    if (isModelRefusal(e)) {
      // The model cannot be read as named: gated without a token, unknown, a bad Secret. Creating
      // the Secret or getting access changes nothing the controller watches, so look again later.
      const reason = isHuggingFaceError(e) ? e.code : "ModelAccessSecretInvalid";
      condition("ResourceReady", "False", reason, message);
      condition("WorkspaceReady", "False", reason, message);
      this.d.recorder.event(ws, "Warning", reason, message);
      return { requeueAfterMs: modelRetryMs };
    }
    if (isUserError(e)) {
      condition("ResourceReady", "False", "InvalidSpec", message);
      condition("WorkspaceReady", "False", "InvalidSpec", message);
      this.d.recorder.event(ws, "Warning", "InvalidSpec", message);
      return {};
    }
    if (isForeignObjectError(e)) {
      // Deleting or renaming that object changes nothing this workspace watches: look again later.
      condition("WorkspaceReady", "False", e.code, message);
      this.d.recorder.event(ws, "Warning", e.code, message);
      return { requeueAfterMs: configRetryMs };
    }
    if (isWorkloadConfigError(e)) {
      condition("WorkspaceReady", "False", "InvalidConfig", message);
      this.d.recorder.event(ws, "Warning", "InvalidConfig", message);
      return { requeueAfterMs: configRetryMs };
    }
    if (isPlacementError(e)) {
      condition("ResourceReady", "False", e.reason, message);
      condition("WorkspaceReady", "False", e.reason, message);
      this.d.recorder.event(ws, "Warning", e.reason, message);
      // byo's NotEnoughNodes is retried when a node changes (the Node watch), not on a timer.
      return e.reason === "NoCapacity" ||
        e.reason === "InstanceTypeNotOffered" ||
        e.reason === "QuotaExceeded"
        ? { requeueAfterMs: placementRetryMs }
        : {};
    }
    condition("WorkspaceReady", "Unknown", "ReconcileError", message);
    return {};
  }
}
