// Two rounds of the crash drill (test/e2e/crash.ts) per cloud inside `npm test`;
// `npm run test:crash [-- --cloud azure]` runs ten.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { karpenterCrashCloud, roundProblems, runCrashRounds } from "./crash.ts";
import { startTestKarpenter } from "./karpenter.ts";
import { startAzureCrashCloud } from "./crash-azure.ts";
import { MANAGED_IDENTITY_TOKEN } from "../arm-standin/index.ts";

const cluster = useTestCluster();
const seed = Number(process.env.KAITO_CRASH_SEED ?? 20261125);

/** A directory for the managers' logs, removed when the test passes and kept (and named) when it fails. */
function logDirectory(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  onTestFinished(({ task }) => {
    if (task.result?.state === "pass") rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`crash: manager logs kept in ${dir}\n`);
  });
  return dir;
}

describe("the manager killed with SIGKILL while 20 workspaces provision (local cloud)", () => {
  it("leaves every workspace ready, with no orphaned or duplicate Machine or node, 2 rounds", async () => {
    const namespace = await cluster.newNamespace("crash");
    const results = await runCrashRounds({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace,
      rounds: 2,
      workspaces: 20,
      seed,
      logDir: logDirectory("kaito-crash-"),
      print: (line) => process.stderr.write(`crash: ${line}\n`),
    });
    expect(results).toHaveLength(2);
    for (const r of results) expect(roundProblems(r), `round ${r.round} (seed ${seed})`).toEqual([]);
  }, 900_000);
});

describe("the manager killed with SIGKILL while 20 workspaces provision (Azure cloud on the ARM stand-in)", () => {
  it("leaves every workspace ready, with no orphaned or duplicate Machine, node or VM, 2 rounds", async () => {
    const namespace = await cluster.newNamespace("crash-azure");
    const logDir = logDirectory("kaito-crash-azure-");
    const cloud = await startAzureCrashCloud({ kubeconfigPath: cluster.kubeconfigPath, seed, dir: logDir });
    try {
      const results = await runCrashRounds({
        kubeconfigPath: cluster.kubeconfigPath,
        namespace,
        rounds: 2,
        workspaces: 20,
        seed,
        logDir,
        cloud,
        print: (line) => process.stderr.write(`crash: ${line}\n`),
      });
      expect(results).toHaveLength(2);
      for (const r of results) expect(roundProblems(r), `round ${r.round} (seed ${seed})`).toEqual([]);
      // The drill is only worth its name if the managers went through the identity endpoint,
      // the SDK's retry path and long-running operations, and really created the VMs.
      const log = cloud.standin.requests;
      expect(
        log.filter((x) => x.operation === MANAGED_IDENTITY_TOKEN && x.status === 200).length,
      ).toBeGreaterThan(0);
      expect(log.filter((x) => x.status === 429).length).toBeGreaterThan(0);
      expect(log.filter((x) => x.operation === "operations.get").length).toBeGreaterThan(0);
      // Every restarted manager planned with what the subscription offers, read from ARM.
      expect(log.filter((x) => x.operation === "usages.list" && x.status === 200).length).toBeGreaterThan(0);
      expect(
        log.filter((x) => x.operation === "resourceSkus.list" && x.status === 200).length,
      ).toBeGreaterThan(0);
      expect(results.every((r) => r.instances === r.machines && r.machines > 0)).toBe(true);
    } finally {
      await cloud.close();
    }
  }, 900_000);
});

describe("the manager killed with SIGKILL while 20 workspaces provision (NodeClaims for the real Karpenter)", () => {
  it("leaves every workspace ready, with no orphaned or duplicate NodeClaim, and nodes only from NodeClaims, 2 rounds", async () => {
    const namespace = await cluster.newNamespace("crash-karpenter");
    const karpenter = await startTestKarpenter(cluster.kubeconfigPath);
    try {
      const results = await runCrashRounds({
        kubeconfigPath: cluster.kubeconfigPath,
        namespace,
        rounds: 2,
        workspaces: 20,
        seed,
        logDir: logDirectory("kaito-crash-karpenter-"),
        cloud: karpenterCrashCloud(),
        print: (line) => process.stderr.write(`crash: ${line}\n`),
      });
      expect(results).toHaveLength(2);
      for (const r of results) expect(roundProblems(r), `round ${r.round} (seed ${seed})`).toEqual([]);
      // Every NodeClaim had its node: Karpenter, not a stand-in, made them.
      expect(results.every((r) => r.instances === r.machines && r.machines > 0)).toBe(true);
    } finally {
      await karpenter.stop();
    }
  }, 900_000);
});
