import type { Registry } from "prom-client";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { jsonLogger, type LogLevel } from "../../lib/log.ts";
import { componentNames, type OperatorComponent } from "../../controller/operator.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { runOperator } from "../../controller/run.ts";
import type { LocalCloudProvider } from "../../provisioner/cloud/local/index.ts";
import type { WebhookComponent, WebhookRegistration } from "../../webhook/index.ts";
import type { NodeProvisionerConfig } from "../../controller/nodeprovision/index.ts";

export interface RunningOperator {
  client: KubeClient;
  /** The admission webhook, when the operator was started with one. */
  webhook?: WebhookComponent;
  /** The local cloud (builtin mode); the other modes run none, and reading it throws. */
  cloud: LocalCloudProvider;
  manager: Manager;
  registry: Registry;
  stop(): Promise<void>;
}

/** Runs the whole operator in this process against the test cluster, on free loopback ports. */
export async function startOperator(
  kubeconfig: string,
  o: {
    components?: OperatorComponent[];
    bootDelayMs?: number;
    logLevel?: LogLevel;
    /** Receives every log line (JSON) instead of stderr: tests read what the operator logged. */
    log?: (line: string) => void;
    /** Elects a leader through a Lease in this namespace, as the deployed replicas do. */
    leaderElectionNamespace?: string;
    /** Serves the admission webhook on loopback, registered as given (add "webhook" to components). */
    webhook?: WebhookRegistration;
    /** How workspaces get nodes (default builtin, on the local cloud). */
    nodeProvisioner?: NodeProvisionerConfig;
  } = {},
): Promise<RunningOperator> {
  const client = new KubeClient(loadKubeConfig({ kubeconfig }));
  const abort = new AbortController();
  let manager: Manager | undefined;
  let cloud: LocalCloudProvider | undefined;
  let webhook: WebhookComponent | undefined;
  const running = runOperator(
    {
      client,
      cloud: "local",
      ...(o.nodeProvisioner ? { nodeProvisioner: o.nodeProvisioner } : {}),
      components: new Set(o.components ?? componentNames),
      addresses: {
        metrics: "127.0.0.1:0",
        health: "127.0.0.1:0",
        planner: "127.0.0.1:0",
        extender: "127.0.0.1:0",
      },
      log: jsonLogger({
        level: o.logLevel ?? (process.env.KAITO_TEST_LOG as LogLevel | undefined) ?? "error",
        write: o.log,
      }),
      leaderElection: o.leaderElectionNamespace ? { namespace: o.leaderElectionNamespace } : undefined,
      localBootDelayMs: o.bootDelayMs ?? 500,
      onManager: (m) => (manager = m),
      onLocalCloud: (c) => (cloud = c),
      ...(o.webhook ? { webhook: { address: "127.0.0.1:0", registration: o.webhook } } : {}),
      onWebhook: (w) => (webhook = w),
    },
    abort.signal,
  );
  let failure: unknown;
  running.catch((e: unknown) => (failure = e));
  await Promise.resolve();
  const builtin = (o.nodeProvisioner?.mode ?? "builtin") === "builtin";
  if (!manager || (builtin && !cloud))
    throw new Error(`the operator did not build its manager: ${String(failure)}`);
  return {
    client,
    webhook,
    get cloud(): LocalCloudProvider {
      if (!cloud) throw new Error(`the ${o.nodeProvisioner?.mode} node provisioner runs no local cloud`);
      return cloud;
    },
    manager,
    registry: manager.registry,
    async stop() {
      abort.abort();
      await running;
      client.close();
    },
  };
}
