import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { freePort } from "../../localcluster/ports.ts";
import { UserError } from "../../lib/errors.ts";
import { untilAborted } from "../../lib/abort.ts";
import { logFormats, streamLogger, type LogFormat } from "../../lib/log.ts";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { allComponentNames } from "../../controller/operator.ts";
import { runOperator } from "../../controller/run.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import type { WebhookComponent } from "../../webhook/index.ts";
import { kubeSchedulerConfig } from "../../scheduler/index.ts";
import {
  ensureKarpenter,
  installKarpenterCrds,
  startKarpenter,
  type RunningKarpenter,
} from "../../localcluster/karpenter.ts";
import { karpenterInstanceTypes } from "../../provisioner/cloud/local/index.ts";
import { kwokNodeClass } from "../../controller/nodeprovision/index.ts";
import { nodeProvisionerFlags, nodeProvisionerFrom, nodeProvisionerUsage } from "../node-provisioner.ts";

const crdDir = path.resolve(import.meta.dirname, "../../crds");

const usage = `Usage: npm run kaito -- up [options]

Starts the embedded local cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler
wired to the GPU extender, kwok) on loopback, installs the CRDs, runs the operator (Workspace
controller, Machine provisioner on the local cloud, planner gRPC service, scheduler extender),
writes a kubeconfig and stays in the foreground until SIGINT or SIGTERM, then tears it all down.

Options:
  --state-dir DIR                   where the kubeconfig and cluster.json go (default: .kaito/local)
  --apiserver-port PORT             kube-apiserver's port on 127.0.0.1 (default: a free port)
  --metrics-bind-address ADDR       operator /metrics (default: 127.0.0.1:8080)
  --health-probe-bind-address ADDR  operator /healthz, /readyz (default: 127.0.0.1:8081)
  --planner-bind-address ADDR       planner gRPC service (default: 127.0.0.1:9090)
  --extender-bind-address ADDR      scheduler extender (default: 127.0.0.1:8888)
  --webhook-bind-address ADDR       admission webhook, HTTPS, registered with the cluster by URL
                                    (default: 127.0.0.1:9443)
  --boot-delay SECONDS              how long a local GPU node takes to boot (default: 3)
${nodeProvisionerUsage}
                                    On the local cluster, karpenter runs the real Karpenter (its kwok
                                    provider, built once by scripts/control-plane-binaries.sh) with the
                                    catalogue's sizes and a KWOKNodeClass (the default --node-class
                                    here); azure-gpu-provisioner installs the NodeClaim CRD, but
                                    nothing serves its claims; byo makes no nodes: label your own.
  --log-format text|json            the operator's log: text lines on a terminal, JSON lines
                                    otherwise (default)
  -h, --help                        show this help
`;

function address(value: string, flag: string): { host: string; port: number } {
  const i = value.lastIndexOf(":");
  const port = Number(value.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserError(`${flag} must be HOST:PORT such as 127.0.0.1:8080, got "${value}".`);
  }
  return { host: value.slice(0, i) || "127.0.0.1", port };
}

export const upCommand: Command = {
  name: "up",
  summary: "start the local cluster with the operator and stay in the foreground",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      {
        "state-dir": { type: "string" },
        "apiserver-port": { type: "string" },
        "metrics-bind-address": { type: "string", default: "127.0.0.1:8080" },
        "health-probe-bind-address": { type: "string", default: "127.0.0.1:8081" },
        "planner-bind-address": { type: "string", default: "127.0.0.1:9090" },
        "extender-bind-address": { type: "string", default: "127.0.0.1:8888" },
        "webhook-bind-address": { type: "string", default: "127.0.0.1:9443" },
        "boot-delay": { type: "string", default: "3" },
        ...nodeProvisionerFlags,
        "log-format": { type: "string" },
      },
      "up",
    );
    const provisioning = nodeProvisionerFrom(values);
    if (provisioning.mode === "karpenter" && !provisioning.nodeClass) provisioning.nodeClass = kwokNodeClass;
    const stateDir = path.resolve(io.cwd, values["state-dir"] ?? ".kaito/local");
    const apiServerPort =
      values["apiserver-port"] === undefined ? undefined : Number(values["apiserver-port"]);
    if (
      apiServerPort !== undefined &&
      !(Number.isInteger(apiServerPort) && apiServerPort > 0 && apiServerPort < 65536)
    ) {
      throw new UserError(
        `--apiserver-port must be a port number between 1 and 65535, got "${values["apiserver-port"]}".`,
      );
    }
    const bootDelaySeconds = Number(values["boot-delay"]);
    if (!(bootDelaySeconds >= 0))
      throw new UserError(`--boot-delay must be a number of seconds, got "${values["boot-delay"]}".`);
    const format = values["log-format"] as LogFormat | undefined;
    if (format !== undefined && !logFormats.includes(format))
      throw new UserError(`--log-format must be text or json, got "${format}".`);
    for (const flag of [
      "metrics-bind-address",
      "health-probe-bind-address",
      "planner-bind-address",
      "webhook-bind-address",
    ] as const)
      address(values[flag]!, `--${flag}`);
    // kube-scheduler needs the extender's URL before it starts: settle a free port now.
    const extender = address(values["extender-bind-address"]!, "--extender-bind-address");
    if (extender.port === 0) extender.port = await freePort();
    const extenderAddress = `${extender.host}:${extender.port}`;

    const kubeconfigPath = path.join(stateDir, "kubeconfig");
    const statePath = path.join(stateDir, "cluster.json");
    const log = (line: string) => io.stderr.write(`${line}\n`);
    const started = Date.now();
    // Built (once) before the cluster starts, so a failed build leaves nothing running.
    const karpenterInstall =
      provisioning.mode === "karpenter" || provisioning.mode === "azure-gpu-provisioner"
        ? await ensureKarpenter({ log, env: io.env })
        : undefined;
    const scheduler = kubeSchedulerConfig({ url: `http://${extenderAddress}` });
    const cluster = await startLocalCluster({
      crdDir,
      kubeconfigPath,
      apiServerPort,
      log,
      schedulerConfig: { extenders: scheduler.extenders },
    });
    let karpenter: RunningKarpenter | undefined;
    try {
      const target = { server: cluster.server, caPem: cluster.caPem, token: cluster.adminToken };
      if (provisioning.mode === "karpenter" && karpenterInstall) {
        karpenter = await startKarpenter({
          install: karpenterInstall,
          kubeconfigPath: cluster.kubeconfigPath,
          target,
          dir: path.join(cluster.dir, "karpenter"),
          instanceTypes: karpenterInstanceTypes(),
          registrationDelaySeconds: bootDelaySeconds,
        });
        log(`up: Karpenter started (log ${karpenter.logFile})`);
      } else if (karpenterInstall) {
        // Nothing serves these claims here; the CRD lets them be written and inspected.
        await installKarpenterCrds(target, karpenterInstall.crdDir, undefined, ["nodeclaims.karpenter.sh"]);
      }
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    const client = new KubeClient(loadKubeConfig({ kubeconfig: kubeconfigPath }));
    const stopOperator = new AbortController();
    let manager: Manager | undefined;
    let webhook: WebhookComponent | undefined;
    let operatorError: unknown;
    const operator = runOperator(
      {
        client,
        cloud: "local",
        nodeProvisioner: provisioning,
        components: new Set(allComponentNames),
        log: streamLogger(io.stderr, { env: io.env, ...(format ? { format } : {}) }),
        addresses: {
          metrics: values["metrics-bind-address"]!,
          health: values["health-probe-bind-address"]!,
          planner: values["planner-bind-address"]!,
          extender: extenderAddress,
        },
        localBootDelayMs: bootDelaySeconds * 1000,
        // The local kube-apiserver reaches the webhook on loopback, by URL, with a CA made now;
        // the configurations go when the operator stops (and the cluster with them).
        webhook: {
          address: values["webhook-bind-address"]!,
          registration: { mode: "url", configurationName: "kaito-ts-workspaces" },
        },
        onManager: (m) => (manager = m),
        onWebhook: (w) => (webhook = w),
      },
      stopOperator.signal,
    ).catch((e: unknown) => {
      operatorError = e;
    });
    try {
      // Ready once the operator's metrics and health servers listen and the webhook is registered,
      // so the first `kubectl apply` is admitted as every later one is.
      while (
        ((manager?.ports().length ?? 0) < 2 || !webhook || webhook.notReady() !== undefined) &&
        operatorError === undefined
      )
        await new Promise((r) => setTimeout(r, 50));
      if (operatorError !== undefined) throw operatorError;
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(
        statePath,
        JSON.stringify(
          {
            server: cluster.server,
            dir: cluster.dir,
            pid: process.pid,
            nodeProvisioner: provisioning.mode,
            processes: [
              ...cluster.processes(),
              ...(karpenter
                ? [{ name: "karpenter", pid: karpenter.process.pid, logFile: karpenter.logFile }]
                : []),
            ],
          },
          null,
          2,
        ),
      );
      log(`up: local cluster and operator started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      io.stdout.write(`ready: export KUBECONFIG=${kubeconfigPath}\n`);
      await Promise.race([untilAborted(io.signal), operator]);
      if (operatorError !== undefined) throw operatorError;
      log("up: shutting down");
    } finally {
      stopOperator.abort();
      await operator;
      client.close();
      await karpenter?.stop();
      await cluster.stop();
      rmSync(statePath, { force: true });
      rmSync(kubeconfigPath, { force: true });
    }
    return 0;
  },
};
