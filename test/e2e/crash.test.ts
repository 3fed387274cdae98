// Two rounds of the crash drill (test/e2e/crash.ts) inside `npm test`; `npm run test:crash` runs ten.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { roundProblems, runCrashRounds } from "./crash.ts";

const cluster = useTestCluster();

describe("the manager killed with SIGKILL while 20 workspaces provision (local cloud)", () => {
  it("leaves every workspace ready, with no orphaned or duplicate Machine or node, 2 rounds", async () => {
    const namespace = await cluster.newNamespace("crash");
    const seed = Number(process.env.KAITO_CRASH_SEED ?? 20261125);
    const results = await runCrashRounds({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace,
      rounds: 2,
      workspaces: 20,
      seed,
      logDir: mkdtempSync(path.join(tmpdir(), "kaito-crash-")),
      print: (line) => process.stderr.write(`crash: ${line}\n`),
    });
    expect(results).toHaveLength(2);
    for (const r of results) expect(roundProblems(r), `round ${r.round} (seed ${seed})`).toEqual([]);
  }, 900_000);
});
