import type { Machine, ResourceList, Taint } from "../../crds/index.ts";
import type { ReconcileContext } from "../../kube/runtime/reconciler.ts";
import { ephemeralTaintKeys, hasTaint, isNodeReady, type Node } from "../kube-types.ts";
import { quantity } from "../../kube/quantity.ts";
import { isConditionTrue, machineReasons, setMachineCondition } from "./conditions.ts";
import { initializedEvent } from "./events.ts";
import { publish, type Phase, type PhaseDependencies, type PhaseResult } from "./phase.ts";

/** Why a registered node is not yet usable, or undefined when it is. */
export function initializationBlocker(
  machine: Machine,
  node: Node,
): { reason: string; message: string } | undefined {
  const name = node.metadata?.name ?? "";
  if (!isNodeReady(node))
    return { reason: machineReasons.nodeNotReady, message: `node ${name} is not ready` };
  const startup = (machine.spec?.startupTaints ?? []).find((t) => hasTaint(node.spec?.taints, t));
  const ephemeral = (node.spec?.taints ?? []).find((t) =>
    (ephemeralTaintKeys as readonly string[]).includes(t.key),
  );
  const taint: Taint | undefined = startup ?? ephemeral;
  if (taint) {
    return {
      reason: machineReasons.startupTaintsExist,
      message: `node ${name} still has the taint ${taint.key}:${taint.effect}`,
    };
  }
  const missing = expectedResources(machine).filter((r) => quantity(node.status?.allocatable?.[r]) <= 0);
  if (missing.length > 0) {
    return {
      reason: machineReasons.resourceNotRegistered,
      message: `node ${name} has no allocatable ${missing.join(", ")} yet`,
    };
  }
  return undefined;
}

/**
 * `storage` sizes the node's OS disk, as gpu-provisioner reads it (REAL-WORLD.md); kubelet reports
 * the disk as ephemeral-storage, so no node ever has allocatable `storage` to wait for.
 */
const diskRequest = "storage";

/**
 * The resources the node must offer: everything the Machine requests but its OS disk, plus every
 * extended resource (nvidia.com/gpu...) the instance reported, which a device plugin has to register.
 */
export function expectedResources(machine: Machine): string[] {
  const wanted = new Set<string>();
  const add = (list: ResourceList | undefined, onlyExtended: boolean) => {
    for (const [name, q] of Object.entries(list ?? {})) {
      if (name === diskRequest) continue;
      if (quantity(q) > 0 && (!onlyExtended || name.includes("/"))) wanted.add(name);
    }
  };
  add(machine.spec?.resources?.requests, false);
  add(machine.status?.capacity, true);
  return [...wanted].sort();
}

/**
 * MachineInitialized: the registered node is Ready, its startup taints are gone and every
 * expected resource is allocatable. Settled once True.
 */
export class Initialization implements Phase {
  private readonly d: PhaseDependencies;
  constructor(deps: PhaseDependencies) {
    this.d = deps;
  }

  async reconcile(machine: Machine, _ctx: ReconcileContext): Promise<PhaseResult> {
    const now = this.d.clock.now();
    if (!isConditionTrue(machine, "MachineRegistered")) {
      setMachineCondition(
        machine,
        "MachineInitialized",
        "Unknown",
        machineReasons.notRegistered,
        "waiting for the node to register",
        now,
      );
      return {};
    }
    if (isConditionTrue(machine, "MachineInitialized")) return {};
    const [node] = await this.d.nodes.byProviderID(machine.status!.providerID!);
    if (!node) return {};
    const blocker = initializationBlocker(machine, node);
    if (blocker) {
      setMachineCondition(machine, "MachineInitialized", "Unknown", blocker.reason, blocker.message, now);
      return {};
    }
    machine.status = { ...machine.status, allocatable: { ...node.status?.allocatable } };
    const nodeName = node.metadata?.name ?? "";
    setMachineCondition(
      machine,
      "MachineInitialized",
      "True",
      machineReasons.initialized,
      `node ${nodeName} is ready`,
      now,
    );
    publish(this.d.recorder, machine, initializedEvent(nodeName));
    return {};
  }
}
