// The manager runs with the token of deploy/'s ServiceAccount instead of the admin's: a KAITO
// example reaches WorkspaceReady and deletes cleanly, so the ClusterRole and Roles are enough,
// and a few calls outside them are refused, so they are not too much.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { isKubeApiError } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";
import type { InferenceSet, Machine, Workspace } from "../../crds/index.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import {
  applyAll,
  managerNamespace,
  managerRbac,
  resourceOf,
  serviceAccountKubeconfig,
} from "./rbac-manifests.ts";
import { until } from "../harness/until.ts";
import { sharedNodeScenario } from "./sharing.ts";

const cluster = useTestCluster();
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
type Ws = Workspace & KubeObject;

let admin: KubeClient;
let sa: KubeClient;
let operator: RunningOperator | undefined;
let dir: string;
const logLines: string[] = [];

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    if (isKubeApiError(e)) return e.statusCode;
    throw e;
  }
}

beforeAll(async () => {
  admin = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await applyAll(admin, managerRbac());
  dir = mkdtempSync(path.join(tmpdir(), "kaito-rbac-"));
  const kubeconfigPath = path.join(dir, "kubeconfig");
  writeFileSync(kubeconfigPath, await serviceAccountKubeconfig(admin, cluster.kubeconfigPath), {
    mode: 0o600,
  });
  sa = new KubeClient(loadKubeConfig({ kubeconfig: kubeconfigPath }));
  // RBAC objects reach the authorizer's cache asynchronously: wait until the SA can do its job.
  await until("the ServiceAccount's rights to take effect", async () =>
    (await statusOf(sa.list(resources.machines))) === 200 ? true : undefined,
  );
  operator = await startOperator(kubeconfigPath, {
    leaderElectionNamespace: managerNamespace,
    logLevel: "warn",
    log: (line) => logLines.push(line),
  });
});

afterAll(async () => {
  await operator?.stop();
  sa?.close();
  // Cluster-scoped RBAC would outlive the run's namespaces: remove what this file applied.
  for (const obj of managerRbac().reverse()) {
    if (obj.kind === "Namespace") continue;
    await admin?.delete(resourceOf(obj), obj.metadata!.name!, obj.metadata?.namespace).catch(() => undefined);
  }
  admin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the manager with deploy/'s ServiceAccount instead of admin", () => {
  it("runs a KAITO example to WorkspaceReady and deletes it without leftovers", async () => {
    const namespace = await cluster.newNamespace("rbac");
    const manifest = parse(readFileSync(path.join(examplesDir, "kaito_workspace_phi_3.yaml"), "utf8")) as Ws;
    manifest.metadata = { ...manifest.metadata, namespace };
    const name = manifest.metadata.name!;
    await admin.create(resources.workspaces, manifest);

    let seen: Ws | undefined;
    await until(
      () => `${name} to be ready (last status: ${JSON.stringify(seen?.status)})`,
      async () => {
        seen = await admin.get<Ws>(resources.workspaces, name, namespace);
        return seen.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True")
          ? true
          : undefined;
      },
      90_000,
    );
    // The lease shows the manager led through its Role in kaito-system.
    const lease = await admin.get<KubeObject & { spec?: { holderIdentity?: string } }>(
      resources.leases,
      "kaito-ts-manager",
      managerNamespace,
    );
    expect(lease.spec?.holderIdentity).toBeTruthy();

    const mine = (m: Machine & KubeObject) =>
      m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace;
    const machines = (await admin.list<Machine & KubeObject>(resources.machines)).items.filter(mine);
    expect(machines).toHaveLength(1);
    const nodeName = machines[0]!.status!.nodeName!;

    await admin.delete(resources.workspaces, name, namespace);
    await until("the workspace, its Machine and its node to be gone", async () => {
      const left = [
        await statusOf(admin.get(resources.workspaces, name, namespace)),
        await statusOf(admin.get(resources.nodes, nodeName)),
      ];
      const machinesLeft = (await admin.list<Machine & KubeObject>(resources.machines)).items.filter(mine);
      return left.every((s) => s === 404) && machinesLeft.length === 0 ? true : undefined;
    });
    // Nothing the manager tried was refused: a missing rule shows up as a Forbidden in its log
    // even where a retry hides it from the outcome.
    expect(logLines.filter((l) => /forbidden/i.test(l))).toEqual([]);
  });

  it("runs KAITO's InferenceSet example (its replicas are Workspaces it creates) and deletes it", async () => {
    const namespace = await cluster.newNamespace("rbac-set");
    const set = parse(
      readFileSync(path.join(examplesDir, "v1beta1/inferenceset-mistral.yaml"), "utf8"),
    ) as InferenceSet & KubeObject;
    set.metadata = { ...set.metadata, namespace };
    set.spec.replicas = 1;
    await admin.create(resources.inferenceSets, set);
    await until("the set's one replica to be ready", async () => {
      const s = await admin.get<InferenceSet & KubeObject>(
        resources.inferenceSets,
        set.metadata!.name!,
        namespace,
      );
      return s.status?.readyReplicas === 1 ? true : undefined;
    });
    await admin.delete(resources.inferenceSets, set.metadata.name!, namespace);
    await until("the set and its replica to be gone", async () => {
      const left = (await admin.list<Ws>(resources.workspaces, { namespace })).items.length;
      const gone =
        (await statusOf(admin.get(resources.inferenceSets, set.metadata!.name!, namespace))) === 404;
      return gone && left === 0 ? true : undefined;
    });
    expect(logLines.filter((l) => /forbidden/i.test(l))).toEqual([]);
  });

  it("hands a shared node over when its owner goes (the Machine's owner labels are patched)", async () => {
    await sharedNodeScenario(admin, await cluster.newNamespace("rbac-share"), resources.machines);
    expect(logLines.filter((l) => /forbidden/i.test(l))).toEqual([]);
  });

  it("is refused what the manager never needs", async () => {
    expect(await statusOf(sa.list(resources.secrets))).toBe(403);
    expect(await statusOf(sa.list(resources.secrets, { namespace: managerNamespace }))).toBe(403);
    expect(await statusOf(sa.list(resources.configMaps))).toBe(403);
    expect(await statusOf(sa.list(resources.namespaces))).toBe(403);
    expect(
      await statusOf(
        sa.create(resources.pods, {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "not-allowed", namespace: managerNamespace },
          spec: { containers: [{ name: "c", image: "busybox" }] },
        } as KubeObject),
      ),
    ).toBe(403);
    // Leases only in kaito-system, and only the manager's own beyond create.
    expect(await statusOf(sa.list(resources.leases, { namespace: "default" }))).toBe(403);
    expect(await statusOf(sa.get(resources.leases, "someone-else", managerNamespace))).toBe(403);
    // No way to grant itself more.
    expect(
      await statusOf(
        sa.create(resourceOf({ kind: "ClusterRole" }), {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRole",
          metadata: { name: "kaito-escalation" },
          rules: [],
        } as KubeObject),
      ),
    ).toBe(403);
  });
});
