import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import { gpuPodScope, nodeScope } from "../kube/caches.ts";
import type { KubeObject } from "../kube/client.ts";
import { Informer, type InformerOptions, type ListWatcher } from "../kube/informer.ts";
import { resources, type Resource } from "../kube/resources.ts";
import { MemoryClusterView, type EventSource } from "./cluster-view.ts";

/** A cache someone else runs (the manager's shared informers), as the view needs it. */
export interface SharedCache extends EventSource<unknown> {
  waitForSync(): Promise<void>;
}

export interface WatchClusterOptions {
  client: ListWatcher;
  signal: AbortSignal;
  /** Also cache nodes, for kube-scheduler's nodeCacheCapable mode (default true). */
  nodeCache?: boolean;
  /**
   * Caches to read instead of watching: the manager's shared pod and node informers (kube/caches.ts
   * scopes), which it runs on every replica. Without them the view runs its own, of the same scopes.
   */
  shared?: { pods: SharedCache; nodes?: SharedCache };
  clock?: Clock;
  log?: Logger;
}

export interface WatchedCluster {
  view: MemoryClusterView;
  /** Resolves once nodes and pods have been listed; the view reports synced from then on. */
  synced: Promise<void>;
  /** Settles when the view's own informers have stopped (after the signal aborts). */
  stopped: Promise<void>;
}

/**
 * Keeps a MemoryClusterView current from list+watch of nodes and of the pods that ask for GPUs
 * (kube/caches.ts): finished pods hold no GPUs, so the API server filters them out (a pod that
 * finishes arrives as a delete), and pods without GPUs never reach the cache.
 */
export function watchCluster(options: WatchClusterOptions): WatchedCluster {
  const view = new MemoryClusterView({ ...(options.clock ? { clock: options.clock } : {}) });
  const common = {
    client: options.client,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  const own: Informer<KubeObject>[] = [];
  const watchOwn = (resource: Resource, scope: Pick<InformerOptions, "fieldSelector" | "transform">) => {
    const informer = new Informer<KubeObject>({ ...common, resource, ...scope });
    own.push(informer);
    return informer;
  };
  const pods = options.shared?.pods ?? watchOwn(resources.pods, gpuPodScope);
  const nodes =
    options.nodeCache === false ? undefined : (options.shared?.nodes ?? watchOwn(resources.nodes, nodeScope));
  view.feedFrom({ pods, ...(nodes ? { nodes } : {}) });
  const stopped = Promise.all(own.map((i) => i.start(options.signal))).then(() => {});
  const synced = Promise.all([pods.waitForSync(), nodes?.waitForSync()]).then(() => view.markSynced());
  return { view, synced, stopped };
}
