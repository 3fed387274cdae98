import { readFileSync } from "node:fs";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { resources, type Resource } from "../../kube/resources.ts";
import { kubeconfigYaml } from "../../localcluster/credentials.ts";
import { kustomizeBuild } from "../harness/kustomize.ts";

const repo = path.resolve(import.meta.dirname, "../..");
const rbac = (plural: string, kind: string, namespaced: boolean): Resource => ({
  group: "rbac.authorization.k8s.io",
  version: "v1",
  plural,
  kind,
  namespaced,
});
const byKind: Record<string, Resource> = {
  Namespace: resources.namespaces,
  ServiceAccount: resources.serviceAccounts,
  ClusterRole: rbac("clusterroles", "ClusterRole", false),
  ClusterRoleBinding: rbac("clusterrolebindings", "ClusterRoleBinding", false),
  Role: rbac("roles", "Role", true),
  RoleBinding: rbac("rolebindings", "RoleBinding", true),
};

/**
 * The identities and rights deploy/ ships (Namespace, ServiceAccounts, Roles, bindings) for a
 * node-provisioner overlay: what the RBAC and auth e2e tests apply. builtin-azure by default, whose
 * rules are the builtin provisioner's, which the local cloud runs in the tests.
 */
export function managerRbac(mode = "builtin-azure"): KubeObject[] {
  return kustomizeBuild(path.join(repo, "deploy/node-provisioner", mode)).filter(
    (o) => byKind[o.kind ?? ""] !== undefined,
  ) as KubeObject[];
}

export const managerNamespace = "kaito-system";
export const managerServiceAccount = "kaito-manager";

export function readManifests(files: readonly string[]): KubeObject[] {
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(repo, f), "utf8")).map((d) => d.toJS() as KubeObject),
  );
}

export function resourceOf(obj: KubeObject): Resource {
  const r = byKind[obj.kind ?? ""];
  if (!r) throw new Error(`no resource known for kind ${obj.kind}`);
  return r;
}

/** Server-side applies each object, as `kubectl apply --server-side` would: reruns are no-ops. */
export async function applyAll(client: KubeClient, objects: readonly KubeObject[]): Promise<void> {
  for (const obj of objects)
    await client.patch(resourceOf(obj), obj.metadata!.name!, obj.metadata?.namespace, obj, "apply", {
      fieldManager: "kaito-e2e",
      force: true,
    });
}

/**
 * A kubeconfig for a ServiceAccount (the manager's by default): a short-lived token from the
 * TokenRequest API, with the admin kubeconfig's server and CA, so only the identity differs.
 */
export async function serviceAccountKubeconfig(
  admin: KubeClient,
  adminKubeconfigPath: string,
  account: { namespace: string; name: string } = { namespace: managerNamespace, name: managerServiceAccount },
): Promise<string> {
  const answer = await admin.request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${account.namespace}/serviceaccounts/${account.name}/token`,
    {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  const kc = new KubeConfig();
  kc.loadFromFile(adminKubeconfigPath);
  const cluster = kc.getCurrentCluster()!;
  const caPem = cluster.caData
    ? Buffer.from(cluster.caData, "base64").toString("utf8")
    : readFileSync(cluster.caFile!, "utf8");
  return kubeconfigYaml({ server: cluster.server, caPem, token: answer.status.token, user: account.name });
}
