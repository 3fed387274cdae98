// npm run test:crash [-- --rounds 10 --workspaces 20 --seed N]
//
// The crash drill of test/e2e/crash.ts at full length, on a local cluster of its own: every round
// applies the Workspaces, SIGKILLs the manager process at a seeded random moment while they
// provision, restarts it, and prints the counts. Exits 1 if any round leaves a workspace unready
// or a Machine, node or instance orphaned or duplicated.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { roundProblems, runCrashRounds } from "./crash.ts";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "10" },
    workspaces: { type: "string", default: "20" },
    seed: { type: "string", default: String(Date.now() % 1_000_000) },
  },
});
const rounds = Number(values.rounds);
const workspaces = Number(values.workspaces);
const seed = Number(values.seed);
const repo = path.resolve(import.meta.dirname, "../..");
const log = (line: string) => process.stderr.write(`${line}\n`);

log(`crash drill: ${rounds} rounds of ${workspaces} workspaces, seed ${seed} (rerun with --seed ${seed})`);
// Outside the cluster's directory, which stop() removes: the logs are for after a failure.
const logDir = mkdtempSync(path.join(tmpdir(), "kaito-crash-"));
const cluster = await startLocalCluster({ crdDir: path.join(repo, "crds"), log });
let failed = false;
try {
  const namespace = "crash";
  const client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await client.create(resources.namespaces, { metadata: { name: namespace } });
  client.close();
  const results = await runCrashRounds({
    kubeconfigPath: cluster.kubeconfigPath,
    namespace,
    rounds,
    workspaces,
    seed,
    logDir,
    print: (line) => process.stdout.write(`${line}\n`),
  });
  for (const r of results) {
    const problems = roundProblems(r);
    if (problems.length) {
      failed = true;
      process.stdout.write(`round ${r.round} FAILED: ${problems.join("; ")}\n`);
    }
  }
  process.stdout.write(
    `${failed ? "FAIL" : "PASS"}: ${results.length} rounds, seed ${seed}, manager logs in ${logDir}\n`,
  );
} catch (e) {
  failed = true;
  process.stdout.write(`FAIL: ${e instanceof Error ? e.message : String(e)}\n`);
} finally {
  await cluster.stop();
}
process.exitCode = failed ? 1 : 0;
