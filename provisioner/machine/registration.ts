import type { Machine } from "../../crds/index.ts";
import type { ReconcileContext } from "../../kube/runtime/reconciler.ts";
import { resources } from "../../kube/resources.ts";
import type { Node } from "../kube-types.ts";
import { isConditionTrue, machineReasons, setMachineCondition } from "./conditions.ts";
import { nodeDeletedEvent, registeredEvent } from "./events.ts";
import { syncedNode, updateWithRetry } from "./nodes.ts";
import { deleteMachine, publish, type Phase, type PhaseDependencies, type PhaseResult } from "./phase.ts";

/**
 * MachineRegistered: a Node with the Machine's providerID exists. On registration the node gets
 * the Machine's labels and taints and status.nodeName is set. A registered Machine whose node
 * disappears is deleted, so the Workspace controller gets a new one.
 */
export class Registration implements Phase {
  private readonly d: PhaseDependencies;
  constructor(deps: PhaseDependencies) {
    this.d = deps;
  }

  async reconcile(machine: Machine, ctx: ReconcileContext): Promise<PhaseResult> {
    const now = this.d.clock.now();
    if (!isConditionTrue(machine, "MachineLaunched")) {
      setMachineCondition(
        machine,
        "MachineRegistered",
        "Unknown",
        machineReasons.notLaunched,
        "waiting for the instance to launch",
        now,
      );
      return {};
    }
    const providerID = machine.status!.providerID!;
    const nodes = await this.d.nodes.byProviderID(providerID);
    if (isConditionTrue(machine, "MachineRegistered")) {
      if (nodes.length > 0) return {};
      const nodeName = machine.status?.nodeName ?? providerID;
      publish(this.d.recorder, machine, nodeDeletedEvent(nodeName));
      ctx.log.info("node deleted, deleting the Machine", { node: nodeName });
      await deleteMachine(this.d, machine);
      return { deleted: true };
    }
    if (nodes.length === 0) {
      setMachineCondition(
        machine,
        "MachineRegistered",
        "Unknown",
        machineReasons.nodeNotFound,
        `no node with providerID ${providerID} has registered yet`,
        now,
      );
      return {};
    }
    if (nodes.length > 1) {
      const names = nodes.map((n) => n.metadata?.name).join(", ");
      setMachineCondition(
        machine,
        "MachineRegistered",
        "Unknown",
        machineReasons.multipleNodesFound,
        `nodes ${names} all claim providerID ${providerID}; delete the extra ones`,
        now,
      );
      return {};
    }
    const node = nodes[0]!;
    // The cached node may be stale: only when it lacks something is the live one read and written.
    if (syncedNode(node, machine)) {
      await updateWithRetry<Node>(this.d.client, resources.nodes, node, (n) => syncedNode(n, machine));
    }
    const nodeName = node.metadata!.name!;
    machine.status = { ...machine.status, nodeName };
    setMachineCondition(
      machine,
      "MachineRegistered",
      "True",
      machineReasons.registered,
      `node ${nodeName} registered`,
      this.d.clock.now(),
    );
    publish(this.d.recorder, machine, registeredEvent(nodeName));
    return {};
  }
}
