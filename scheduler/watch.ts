import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { KubeObject } from "../kube/client.ts";
import { Informer, type ListWatcher } from "../kube/informer.ts";
import { resources } from "../kube/resources.ts";
import { MemoryClusterView } from "./cluster-view.ts";

export interface WatchClusterOptions {
  client: ListWatcher;
  signal: AbortSignal;
  /** Also cache nodes, for kube-scheduler's nodeCacheCapable mode (default true). */
  nodeCache?: boolean;
  clock?: Clock;
  log?: Logger;
}

export interface WatchedCluster {
  view: MemoryClusterView;
  /** Resolves once nodes and pods have been listed; the view reports synced from then on. */
  synced: Promise<void>;
  /** Settles when both informers have stopped (after the signal aborts). */
  stopped: Promise<void>;
}

/**
 * Keeps a MemoryClusterView current from list+watch of nodes and pods. Finished pods hold no GPUs,
 * so the API server filters them out (a pod that finishes arrives as a delete).
 */
export function watchCluster(options: WatchClusterOptions): WatchedCluster {
  const view = new MemoryClusterView({ ...(options.clock ? { clock: options.clock } : {}) });
  const common = {
    client: options.client,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  const pods = new Informer<KubeObject>({
    ...common,
    resource: resources.pods,
    fieldSelector: "status.phase!=Succeeded,status.phase!=Failed",
  });
  const nodes =
    options.nodeCache === false
      ? undefined
      : new Informer<KubeObject>({ ...common, resource: resources.nodes });
  view.feedFrom({ pods, ...(nodes ? { nodes } : {}) });
  const stopped = Promise.all([pods.start(options.signal), nodes?.start(options.signal)]).then(() => {});
  const synced = Promise.all([pods.waitForSync(), nodes?.waitForSync()]).then(() => view.markSynced());
  return { view, synced, stopped };
}
