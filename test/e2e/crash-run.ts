// npm run test:crash [-- --cloud local|azure | --node-provisioner karpenter] [--rounds 10 --workspaces 20 --seed N]
//
// The crash drill of test/e2e/crash.ts at full length, on a local cluster of its own: every round
// applies the Workspaces, SIGKILLs the manager process at a seeded random moment while they
// provision, restarts it, and prints the counts. With --cloud azure the manager runs the Azure
// backend against the ARM stand-in, which lives in this process (test/e2e/crash-azure.ts) and
// keeps the VMs across the kills. With --node-provisioner karpenter the manager writes NodeClaims
// for the real Karpenter (kwok provider), started on the same cluster. Exits 1 if any round leaves a workspace unready or a Machine,
// node, instance or VM orphaned or duplicated.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { roundProblems, runCrashRounds } from "./crash.ts";
import { startAzureCrashCloud, type AzureCrashCloud } from "./crash-azure.ts";
import { karpenterCrashCloud } from "./crash.ts";
import { startTestKarpenter } from "./karpenter.ts";
import type { RunningKarpenter } from "../../localcluster/karpenter.ts";

const { values } = parseArgs({
  options: {
    cloud: { type: "string", default: "local" },
    "node-provisioner": { type: "string", default: "builtin" },
    rounds: { type: "string", default: "10" },
    workspaces: { type: "string", default: "20" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
  },
});
const mode = values["node-provisioner"];
if (mode !== "builtin" && mode !== "karpenter") {
  process.stderr.write(`--node-provisioner must be builtin or karpenter, got "${mode}".\n`);
  process.exit(2);
}
const cloudName = mode === "karpenter" ? "karpenter" : values.cloud;
if (cloudName !== "local" && cloudName !== "azure" && cloudName !== "karpenter") {
  process.stderr.write(`--cloud must be local or azure, got "${cloudName}".\n`);
  process.exit(2);
}
const rounds = Number(values.rounds);
const workspaces = Number(values.workspaces);
const seed = Number(values.seed);
const repo = path.resolve(import.meta.dirname, "../..");
const log = (line: string) => process.stderr.write(`${line}\n`);

log(
  `crash drill (${cloudName} cloud): ${rounds} rounds of ${workspaces} workspaces, seed ${seed} (rerun with ${cloudName === "karpenter" ? "--node-provisioner karpenter" : `--cloud ${cloudName}`} --seed ${seed})`,
);
// Outside the cluster's directory, which stop() removes: the logs are for after a failure.
const logDir = mkdtempSync(path.join(tmpdir(), "kaito-crash-"));
const started = performance.now();
const cluster = await startLocalCluster({ crdDir: path.join(repo, "crds"), log });
let failed = false;
let azure: AzureCrashCloud | undefined;
let karpenter: RunningKarpenter | undefined;
try {
  const namespace = "crash";
  const client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await client.create(resources.namespaces, { metadata: { name: namespace } });
  client.close();
  if (cloudName === "azure")
    azure = await startAzureCrashCloud({ kubeconfigPath: cluster.kubeconfigPath, seed, dir: logDir });
  if (cloudName === "karpenter") karpenter = await startTestKarpenter(cluster.kubeconfigPath);
  const results = await runCrashRounds({
    kubeconfigPath: cluster.kubeconfigPath,
    namespace,
    rounds,
    workspaces,
    seed,
    logDir,
    ...(azure ? { cloud: azure } : {}),
    ...(karpenter ? { cloud: karpenterCrashCloud() } : {}),
    print: (line) => process.stdout.write(`${line}\n`),
  });
  for (const r of results) {
    const problems = roundProblems(r);
    if (problems.length) {
      failed = true;
      process.stdout.write(`round ${r.round} FAILED: ${problems.join("; ")}\n`);
    }
  }
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  process.stdout.write(
    `${failed ? "FAIL" : "PASS"}: ${results.length} rounds (${cloudName} cloud) in ${minutes} min, seed ${seed}, manager logs in ${logDir}\n`,
  );
} catch (e) {
  failed = true;
  process.stdout.write(`FAIL: ${e instanceof Error ? e.message : String(e)}\n`);
} finally {
  await azure?.close();
  await karpenter?.stop();
  await cluster.stop();
}
process.exitCode = failed ? 1 : 0;
