import type { Registry } from "prom-client";
import type { Clock } from "../lib/clock.ts";
import type { Logger } from "../lib/log.ts";
import type { KubeClient } from "../kube/client.ts";
import { apiServerBinder } from "./binder.ts";
import { startExtenderServer, type RunningExtender } from "./server.ts";
import { watchCluster, type SharedCache, type WatchedCluster } from "./watch.ts";

export interface GpuExtenderOptions {
  client: KubeClient;
  registry: Registry;
  /** Bind address: 0.0.0.0 in a pod, 127.0.0.1 next to a local kube-scheduler and in tests. */
  host: string;
  /** Default 8888; 0 picks a free port. */
  port?: number;
  /** The manager's shared pod and node caches; without them the extender watches on its own. */
  shared?: { pods: SharedCache; nodes: SharedCache };
  /** Offer the bind verb (default true), as deploy/scheduler/kube-scheduler-config.yaml expects. */
  bind?: boolean;
  clock?: Clock;
  log?: Logger;
}

export interface GpuExtender extends RunningExtender {
  cluster: WatchedCluster;
}

/**
 * The extender as the manager runs it: node and pod watches feeding the cluster view, and the
 * HTTP server on top. It answers at once; until the watches have listed, filter steps aside for
 * GPU pods (kube-scheduler's extender is ignorable) and /readyz says 503. close() stops the
 * server and the watches.
 */
export async function startGpuExtender(options: GpuExtenderOptions): Promise<GpuExtender> {
  const watches = new AbortController();
  const cluster = watchCluster({
    client: options.client,
    signal: watches.signal,
    ...(options.shared ? { shared: options.shared } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  let server: RunningExtender;
  try {
    server = await startExtenderServer({
      view: cluster.view,
      registry: options.registry,
      host: options.host,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.bind === false ? {} : { binder: apiServerBinder(options.client) }),
      ...(options.log ? { log: options.log } : {}),
    });
  } catch (e) {
    watches.abort();
    await cluster.stopped;
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    cluster,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        watches.abort();
        await cluster.stopped;
      })()),
  };
}
