// Two manager processes with leader election; the leader is frozen with SIGSTOP past its lease.
// Each manager reaches the API server through a proxy of its own (test/harness/fault-proxy.ts),
// which records every request it sends: the frozen leader's writes are counted there, by time.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.ts";
import { until } from "../harness/until.ts";
import { deleteWorkspaces } from "./workspaces.ts";
import type { Workspace } from "../../crds/index.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { ManagedProcess } from "../../localcluster/processes.ts";

const cluster = useTestCluster();
const repo = path.resolve(import.meta.dirname, "../..");
const lease = "kaito-ts-manager";
const isWrite = (method: string) => !["GET", "HEAD"].includes(method);

type Ws = Workspace & KubeObject;
type Lease = KubeObject & { spec?: { holderIdentity?: string } };

function workspace(namespace: string, name: string): Ws {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace },
    resource: { instanceType: "Standard_NC6s_v3", labelSelector: { matchLabels: { apps: name } } },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

/** `kaito controller` as the Deployment runs it, with short lease timings, through `proxy`. */
function startManager(name: string, dir: string, proxy: FaultProxy, namespace: string): ManagedProcess {
  const kubeconfig = path.join(dir, `${name}.kubeconfig`);
  writeFileSync(kubeconfig, proxy.kubeconfigYaml());
  return new ManagedProcess({
    name,
    command: path.join(repo, "node_modules/.bin/node"),
    args: [
      path.join(repo, "cli/main.ts"),
      "controller",
      `--kubeconfig=${kubeconfig}`,
      "--cloud=local",
      "--boot-delay=0",
      "--components=workspace,provisioner",
      "--metrics-bind-address=127.0.0.1:0",
      "--health-probe-bind-address=127.0.0.1:0",
      "--leader-elect",
      `--leader-election-namespace=${namespace}`,
      "--leader-elect-lease-duration=4s",
      "--leader-elect-renew-deadline=3s",
      "--leader-elect-retry-period=1s",
      "--log-format=json",
    ],
    logFile: path.join(dir, `${name}.log`),
  });
}

describe("a leader frozen with SIGSTOP past its lease while a second manager runs", () => {
  it("is replaced by the second, and after SIGCONT writes nothing more and exits", async () => {
    const namespace = await cluster.newNamespace("freeze");
    const kc = loadKubeConfig({ kubeconfig: cluster.kubeconfigPath });
    const admin = new KubeClient(kc);
    // Kept (and named) when the test fails, for the managers' logs.
    const dir = mkdtempSync(path.join(tmpdir(), "kaito-freeze-"));
    const proxyA = await startFaultProxy(kc);
    const proxyB = await startFaultProxy(kc);
    const holder = async () =>
      (await admin.get<Lease>(resources.leases, lease, namespace).catch(() => undefined))?.spec
        ?.holderIdentity;
    const finalized = (name: string) => async () =>
      (await admin.get<Ws>(resources.workspaces, name, namespace)).metadata?.finalizers?.length
        ? true
        : undefined;
    const a = startManager("manager-a", dir, proxyA, namespace);
    let b: ManagedProcess | undefined;
    let passed = false;
    try {
      const identityA = await until("the first manager to lead", holder, 60_000);
      b = startManager("manager-b", dir, proxyB, namespace);
      await until("the second manager to stand as a candidate", async () =>
        proxyB.requests.some((r) => r.url.includes(`/leases/${lease}`)) ? true : undefined,
      );
      await admin.create(resources.workspaces, workspace(namespace, "before"));
      await until("the leader to take the first workspace", finalized("before"));
      expect(proxyA.requests.filter((r) => isWrite(r.method)).length).toBeGreaterThan(0);

      a.kill("SIGSTOP");
      const identityB = await until(
        "the second manager to take the lease over",
        async () => {
          const h = await holder();
          return h && h !== identityA ? h : undefined;
        },
        30_000,
      );
      // News the frozen leader will find waiting on its watch when it wakes: a workspace to act on.
      await admin.create(resources.workspaces, workspace(namespace, "during"));
      await until("the new leader to take the second workspace", finalized("during"));
      const thawedAt = Date.now();
      a.kill("SIGCONT");
      const exit = await Promise.race([
        a.exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000)),
      ]);
      expect(exit, "the thawed manager exits").toBeDefined();
      expect(exit!.code).toBe(1);
      expect(a.logTail(40)).toMatch(/lost leadership/);

      const writesAfterThaw = proxyA.requests.filter((r) => isWrite(r.method) && r.at >= thawedAt);
      expect(writesAfterThaw, "writes of the thawed manager").toEqual([]);
      expect(await holder()).toBe(identityB);
      expect(
        proxyB.requests.filter((r) => isWrite(r.method) && r.url.includes("/workspaces/during")).length,
      ).toBeGreaterThan(0);
      await deleteWorkspaces(admin, namespace);
      passed = true;
    } finally {
      a.kill("SIGCONT");
      await Promise.all([a.stop(2_000), b?.stop(5_000)]);
      await Promise.all([proxyA.close(), proxyB.close()]);
      admin.close();
      if (passed) rmSync(dir, { recursive: true, force: true });
      else process.stderr.write(`leader-freeze: manager logs kept in ${dir}\n`);
    }
  }, 180_000);
});
