import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { UserError } from "../../lib/errors.ts";
import { untilAborted } from "../../lib/abort.ts";

const crdDir = path.resolve(import.meta.dirname, "../../crds");

const usage = `Usage: npm run kaito -- up [options]

Starts the embedded local cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
kwok) on loopback, installs the CRDs, writes a kubeconfig and stays in the foreground until
SIGINT or SIGTERM, then tears everything down.

Options:
  --state-dir DIR        where the kubeconfig and cluster.json go (default: .kaito/local)
  --apiserver-port PORT  kube-apiserver's port on 127.0.0.1 (default: a free port)
  -h, --help             show this help
`;

export const upCommand: Command = {
  name: "up",
  summary: "start the local cluster with the operator and stay in the foreground",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      { "state-dir": { type: "string" }, "apiserver-port": { type: "string" } },
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
    const kubeconfigPath = path.join(stateDir, "kubeconfig");
    const statePath = path.join(stateDir, "cluster.json");
    const log = (line: string) => io.stderr.write(`${line}\n`);

    const started = Date.now();
    const cluster = await startLocalCluster({ crdDir, kubeconfigPath, apiServerPort, log });
    try {
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(
        statePath,
        JSON.stringify(
          { server: cluster.server, dir: cluster.dir, pid: process.pid, processes: cluster.processes() },
          null,
          2,
        ),
      );
      log(`up: local cluster started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      io.stdout.write(`ready: export KUBECONFIG=${kubeconfigPath}\n`);
      await untilAborted(io.signal);
      log("up: shutting down");
    } finally {
      await cluster.stop();
      rmSync(statePath, { force: true });
      rmSync(kubeconfigPath, { force: true });
    }
    return 0;
  },
};
