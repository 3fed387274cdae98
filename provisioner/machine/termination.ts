import { terminationFinalizer, type Machine } from "../../crds/index.ts";
import type { ReconcileContext, Result } from "../../kube/runtime/reconciler.ts";
import { ignoreNotFound, isNotFound } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";
import { isMachineNotFound } from "../cloud/errors.ts";
import { sameProviderID } from "../cloud/providerid.ts";
import type { Node } from "../kube-types.ts";
import { instanceTerminatedEvent } from "./events.ts";
import { updateWithRetry } from "./nodes.ts";
import { publish, type PhaseDependencies } from "./phase.ts";

export interface TerminationOptions {
  /** How soon to look again while a node or the instance is still going away. */
  pollMs: number;
}

export const defaultTerminationOptions: TerminationOptions = { pollMs: 5_000 };

/**
 * A deleted Machine: delete its node, then its instance until the cloud says NotFound, then drop
 * the finalizer. Each step is repeated on every pass until it holds, so a crash anywhere resumes.
 */
export class Termination {
  private readonly d: PhaseDependencies;
  private readonly o: TerminationOptions;
  constructor(deps: PhaseDependencies, options: TerminationOptions = defaultTerminationOptions) {
    this.d = deps;
    this.o = options;
  }

  async reconcile(machine: Machine, ctx: ReconcileContext): Promise<Result> {
    if (!machine.metadata?.finalizers?.includes(terminationFinalizer)) return {};
    if (!(await this.nodesGone(machine))) return { requeueAfterMs: this.o.pollMs };
    try {
      await this.d.cloud.delete(machine);
      ctx.log.debug("instance is still going away");
      return { requeueAfterMs: this.o.pollMs };
    } catch (e) {
      if (!isMachineNotFound(e)) throw e;
    }
    await updateWithRetry<Machine>(this.d.client, resources.machines, machine, (m) => {
      if (!m.metadata?.finalizers?.includes(terminationFinalizer)) return undefined;
      const next = structuredClone(m);
      next.metadata!.finalizers = m.metadata.finalizers.filter((f) => f !== terminationFinalizer);
      return next;
    }).catch(ignoreNotFound);
    publish(this.d.recorder, machine, instanceTerminatedEvent());
    ctx.log.info("terminated");
    return {};
  }

  /** Deletes every node of the Machine; true once none is left (a node may wait on its own finalizers). */
  private async nodesGone(machine: Machine): Promise<boolean> {
    const providerID = machine.status?.providerID;
    const names = new Set<string>();
    if (providerID) for (const n of await this.d.nodes.byProviderID(providerID)) names.add(n.metadata!.name!);
    if (machine.status?.nodeName) names.add(machine.status.nodeName);
    let gone = true;
    for (const name of names) {
      let node: Node;
      try {
        node = await this.d.client.get<Node>(resources.nodes, name);
      } catch (e) {
        if (isNotFound(e)) continue;
        throw e;
      }
      // A node of the same name that another instance owns is not ours to delete.
      if (providerID && node.spec?.providerID && !sameProviderID(node.spec.providerID, providerID)) continue;
      if (node.metadata?.deletionTimestamp) {
        gone = false;
        continue;
      }
      try {
        // The answer is the node's last state: with finalizers left it is still going away.
        const last = (await this.d.client.delete(resources.nodes, name, undefined, {
          uid: node.metadata?.uid,
        })) as Node | undefined;
        if ((last?.metadata?.finalizers ?? []).length > 0) gone = false;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return gone;
  }
}
