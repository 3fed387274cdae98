import path from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalCluster } from "../../localcluster/cluster.ts";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfigPath: string;
    clusterDir: string;
  }
}

const crdDir = path.resolve(import.meta.dirname, "../../crds");

/** Starts one local control plane for the whole integration run; suites share it by namespace. */
export default async function setup(project: TestProject) {
  const started = Date.now();
  const cluster = await startLocalCluster({
    crdDir,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(
    `control-plane: local cluster ready in ${Date.now() - started} ms (${cluster.server})\n`,
  );
  project.provide("kubeconfigPath", cluster.kubeconfigPath);
  project.provide("clusterDir", cluster.dir);

  const onSignal = (signal: NodeJS.Signals) => {
    void cluster.stop().finally(() => process.kill(process.pid, signal));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cluster.stop();
  };
}
