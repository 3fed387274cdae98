import type { Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Machine } from "../../crds/index.ts";
import type { KubeClient } from "../../kube/client.ts";
import { isNotFound } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";
import { isMachineNotFound } from "../cloud/errors.ts";
import type { CloudProvider, Instance } from "../cloud/types.ts";

export interface GarbageCollectionOptions {
  /** Time between sweeps (default 2 min). */
  intervalMs: number;
  /**
   * Instances younger than this are spared (default 1 min): create() may have returned a moment
   * ago, before the Machine's providerID was written.
   */
  gracePeriodMs: number;
}

export const defaultGarbageCollectionOptions: GarbageCollectionOptions = {
  intervalMs: 2 * 60_000,
  gracePeriodMs: 60_000,
};

export interface GarbageCollectorDependencies {
  client: KubeClient;
  cloud: CloudProvider;
  clock: Clock;
  log: Logger;
  /** The cached Machine of a name, checked before the API server is asked. */
  cachedMachine?: (name: string) => Machine | undefined;
}

/** Instances that exist in the cloud but belong to no Machine any more, and are old enough to judge. */
export function orphanCandidates(
  instances: readonly Instance[],
  hasMachine: (instance: Instance) => boolean,
  nowMs: number,
  gracePeriodMs: number,
): Instance[] {
  return instances.filter((i) => nowMs - i.createdAt >= gracePeriodMs && !hasMachine(i));
}

/**
 * Deletes cloud instances without a Machine: left behind when a Machine vanished without its
 * finalizer running (force-removed, or a crash between create() and the first status write
 * followed by the Machine's deletion). A Machine of the instance's name keeps it, whatever its
 * status says: its own reconcile adopts or terminates the instance.
 */
export class GarbageCollector {
  readonly name = "machine-garbage-collection";
  readonly needsLeaderElection = true;
  private readonly d: GarbageCollectorDependencies;
  private readonly o: GarbageCollectionOptions;

  constructor(deps: GarbageCollectorDependencies, options: Partial<GarbageCollectionOptions> = {}) {
    this.d = deps;
    this.o = { ...defaultGarbageCollectionOptions, ...options };
  }

  /** Sweeps every interval until the signal aborts. */
  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.d.clock.sleep(this.o.intervalMs, signal);
      } catch {
        return;
      }
      try {
        await this.collect(signal);
      } catch (e) {
        this.d.log.warn("garbage collection failed; trying again next interval", { error: errorMessage(e) });
      }
    }
  }

  /**
   * One sweep; returns the providerIDs it deleted. `signal` aborts a delete in flight when the
   * manager loses its leadership, as the Machine controller's calls are (cloud/types.ts).
   */
  async collect(signal?: AbortSignal): Promise<string[]> {
    const instances = await this.d.cloud.list();
    const cached = (i: Instance) => this.d.cachedMachine?.(i.machineName) !== undefined;
    const candidates = orphanCandidates(instances, cached, this.d.clock.now(), this.o.gracePeriodMs);
    const deleted: string[] = [];
    for (const instance of candidates) {
      // The cache may lag behind a Machine created a moment ago: the API server has the last word.
      if (signal?.aborted) break;
      if (await this.machineExists(instance.machineName)) continue;
      try {
        await this.d.cloud.delete(instance.providerID, { signal });
      } catch (e) {
        if (!isMachineNotFound(e)) throw e;
      }
      this.d.log.info("deleted an instance without a Machine", {
        providerID: instance.providerID,
        machine: instance.machineName,
      });
      deleted.push(instance.providerID);
    }
    return deleted;
  }

  private async machineExists(name: string): Promise<boolean> {
    if (!name) return false;
    try {
      await this.d.client.get<Machine>(resources.machines, name);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}
