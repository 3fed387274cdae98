import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { freePort } from "../../localcluster/ports.ts";
import { UserError } from "../../lib/errors.ts";
import { untilAborted } from "../../lib/abort.ts";
import { jsonLogger } from "../../lib/log.ts";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { componentNames } from "../../controller/operator.ts";
import { runOperator } from "../../controller/run.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { kubeSchedulerConfig } from "../../scheduler/index.ts";
import { hubEndpoint } from "./controller.ts";

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
  --boot-delay SECONDS              how long a local GPU node takes to boot (default: 3)
  --hf-endpoint URL                 the Hugging Face Hub that sizes models named by their id
                                    (or $HF_ENDPOINT; default https://huggingface.co)
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
        "boot-delay": { type: "string", default: "3" },
        "hf-endpoint": { type: "string" },
      },
      "up",
    );
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
    const hfEndpoint = hubEndpoint(values["hf-endpoint"] ?? io.env.HF_ENDPOINT);
    for (const flag of ["metrics-bind-address", "health-probe-bind-address", "planner-bind-address"] as const)
      address(values[flag]!, `--${flag}`);
    // kube-scheduler needs the extender's URL before it starts: settle a free port now.
    const extender = address(values["extender-bind-address"]!, "--extender-bind-address");
    if (extender.port === 0) extender.port = await freePort();
    const extenderAddress = `${extender.host}:${extender.port}`;

    const kubeconfigPath = path.join(stateDir, "kubeconfig");
    const statePath = path.join(stateDir, "cluster.json");
    const log = (line: string) => io.stderr.write(`${line}\n`);
    const started = Date.now();
    const scheduler = kubeSchedulerConfig({ url: `http://${extenderAddress}` });
    const cluster = await startLocalCluster({
      crdDir,
      kubeconfigPath,
      apiServerPort,
      log,
      schedulerConfig: { extenders: scheduler.extenders },
    });
    const client = new KubeClient(loadKubeConfig({ kubeconfig: kubeconfigPath }));
    const stopOperator = new AbortController();
    let manager: Manager | undefined;
    let operatorError: unknown;
    const operator = runOperator(
      {
        client,
        cloud: "local",
        components: new Set(componentNames),
        log: jsonLogger({ write: (line) => io.stderr.write(line) }),
        addresses: {
          metrics: values["metrics-bind-address"]!,
          health: values["health-probe-bind-address"]!,
          planner: values["planner-bind-address"]!,
          extender: extenderAddress,
        },
        localBootDelayMs: bootDelaySeconds * 1000,
        hfEndpoint,
        onManager: (m) => (manager = m),
      },
      stopOperator.signal,
    ).catch((e: unknown) => {
      operatorError = e;
    });
    try {
      // Ready once the operator's metrics and health servers listen.
      while ((manager?.ports().length ?? 0) < 2 && operatorError === undefined)
        await new Promise((r) => setTimeout(r, 50));
      if (operatorError !== undefined) throw operatorError;
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(
        statePath,
        JSON.stringify(
          { server: cluster.server, dir: cluster.dir, pid: process.pid, processes: cluster.processes() },
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
      await cluster.stop();
      rmSync(statePath, { force: true });
      rmSync(kubeconfigPath, { force: true });
    }
    return 0;
  },
};
