import type { ConditionStatus, Machine, MachineCondition, MachineConditionType } from "../../crds/index.ts";
import { findCondition, setCondition } from "../../kube/conditions.ts";

/**
 * Every reason the Machine controller writes, by condition. The Workspace controller reads
 * MachineLaunched=False: its reason says why the SKU cannot be had, and it replans without it.
 */
export const machineReasons = {
  launched: "Launched",
  launchFailed: "LaunchFailed",
  insufficientCapacity: "InsufficientCapacity",
  quotaExceeded: "QuotaExceeded",
  skuNotAvailable: "SkuNotAvailable",
  launchTimeout: "LaunchTimeout",
  notLaunched: "NotLaunched",
  nodeNotFound: "NodeNotFound",
  multipleNodesFound: "MultipleNodesFound",
  registered: "Registered",
  notRegistered: "NotRegistered",
  nodeNotReady: "NodeNotReady",
  startupTaintsExist: "StartupTaintsExist",
  resourceNotRegistered: "ResourceNotRegistered",
  initialized: "Initialized",
  ready: "Ready",
} as const;
export type MachineReason = (typeof machineReasons)[keyof typeof machineReasons];

/** The conditions Ready summarises, in lifecycle order. */
export const lifecycleConditions = ["MachineLaunched", "MachineRegistered", "MachineInitialized"] as const;

export function conditionOf(machine: Machine, type: MachineConditionType): MachineCondition | undefined {
  return findCondition(machine.status?.conditions, type);
}

export function isConditionTrue(machine: Machine, type: MachineConditionType): boolean {
  return conditionOf(machine, type)?.status === "True";
}

/** Sets one condition on the in-memory Machine; lastTransitionTime moves only with the status. */
export function setMachineCondition(
  machine: Machine,
  type: MachineConditionType,
  status: ConditionStatus,
  reason: MachineReason | string,
  message: string,
  nowMs: number,
): void {
  machine.status ??= {};
  machine.status.conditions = setCondition<MachineCondition>(
    machine.status.conditions,
    { type, status, reason, message },
    nowMs,
  );
}

/**
 * Ready from the lifecycle conditions: False when any is False (that one's reason), Unknown
 * while any is not yet True (the first such), True when all three are.
 */
export function readiness(machine: Machine): { status: ConditionStatus; reason: string; message: string } {
  const conditions = lifecycleConditions.map(
    (type) => conditionOf(machine, type) ?? { type, status: "Unknown" as const, reason: "", message: "" },
  );
  const failed = conditions.find((c) => c.status === "False");
  if (failed) return { status: "False", reason: failed.reason || failed.type, message: failed.message ?? "" };
  const pending = conditions.find((c) => c.status !== "True");
  if (pending) {
    return {
      status: "Unknown",
      reason: pending.reason || `${pending.type}Pending`,
      message: pending.message || `waiting for ${pending.type}`,
    };
  }
  return { status: "True", reason: machineReasons.ready, message: "the node is registered and initialized" };
}
