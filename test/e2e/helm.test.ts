// `helm install` of charts/kaito-ts into the local cluster with the real helm: the API server
// accepts every object the chart renders for it (kube-scheduler's tag from this cluster's
// version); the objects in the cluster are the rendered ones; `helm upgrade` keeps the caBundle the
// manager writes into the webhook configurations; `helm uninstall` leaves nothing but the CRDs.
// The manager's pods are not run here (their image is not on the kwok nodes): the operator itself
// is what the other e2e suites run, with deploy/'s identities, which chart.test.ts shows the chart's
// equal.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { chartDir, helm, helmTemplate } from "../harness/helm.ts";
import type { Manifest } from "../harness/kustomize.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { isKubeApiError } from "../../kube/errors.ts";
import { collectionPath, resources, type Resource } from "../../kube/resources.ts";
import {
  generateServingCertificates,
  mutatingWebhookConfigurations,
  validatingWebhookConfigurations,
  webhookConfigurationTargets,
} from "../../webhook/index.ts";
import { patchCaBundles } from "../../webhook/ca-bundle.ts";

const cluster = useTestCluster();
const release = "kaito-ts";
let admin: KubeClient;
let namespace: string;
let helmHome: string;
let installed = false;

const run = (...args: string[]) =>
  helm([...args, "--kubeconfig", cluster.kubeconfigPath], {
    HELM_CACHE_HOME: path.join(helmHome, "cache"),
    HELM_CONFIG_HOME: path.join(helmHome, "config"),
    HELM_DATA_HOME: path.join(helmHome, "data"),
  });

/** The API path of any object the chart makes. */
function resourceOf(o: Manifest): Resource {
  const [group, version] = o.apiVersion!.includes("/") ? o.apiVersion!.split("/") : ["", o.apiVersion!];
  const plural = o.kind!.toLowerCase().endsWith("y")
    ? `${o.kind!.toLowerCase().slice(0, -1)}ies`
    : `${o.kind!.toLowerCase()}s`;
  const clusterScoped = [
    "ClusterRole",
    "ClusterRoleBinding",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "CustomResourceDefinition",
  ];
  return {
    group: group!,
    version: version!,
    plural,
    kind: o.kind!,
    namespaced: !clusterScoped.includes(o.kind!),
  };
}

async function exists(o: Manifest): Promise<boolean> {
  try {
    await admin.get(resourceOf(o), o.metadata!.name!, o.metadata?.namespace);
    return true;
  } catch (e) {
    if (isKubeApiError(e) && e.statusCode === 404) return false;
    throw e;
  }
}

function manifestOfRelease(): Manifest[] {
  return parseAllDocuments(run("get", "manifest", release, "--namespace", namespace))
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

beforeAll(async () => {
  admin = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  namespace = await cluster.newNamespace("helm");
  helmHome = mkdtempSync(path.join(tmpdir(), "kaito-helm-"));
});

afterAll(async () => {
  if (installed) {
    try {
      run("uninstall", release, "--namespace", namespace);
    } catch (e) {
      process.stderr.write(`${String(e)}\n`);
    }
  }
  admin?.close();
  if (helmHome) rmSync(helmHome, { recursive: true, force: true });
});

describe("helm install of charts/kaito-ts into the local cluster", () => {
  it("installs, upgrades without losing the manager's caBundle, and uninstalls cleanly", async () => {
    // The CRDs are installed already (the harness applies crds/): helm skips them, as on a
    // cluster where a previous release left them.
    const out = run("install", release, chartDir, "--namespace", namespace, "--set", "nodeProvisioner=byo");
    installed = true;
    expect(out).toMatch(/STATUS: deployed/);
    const objects = manifestOfRelease();
    expect(objects.length).toBeGreaterThanOrEqual(25);
    for (const o of objects) expect(await exists(o), `${o.kind} ${o.metadata?.name}`).toBe(true);

    // What the API server holds is what was rendered: the manager's pod template, and the
    // kube-scheduler image of this cluster's own version.
    const version = (await admin.request<{ gitVersion: string }>("GET", "/version")).gitVersion;
    const scheduler = await admin.get<
      KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } }
    >(resources.deployments, "kaito-scheduler", namespace);
    expect(scheduler.spec.template.spec.containers[0]!.image).toBe(
      `registry.k8s.io/kube-scheduler:${/^v\d+\.\d+\.\d+/.exec(version)![0]}`,
    );
    type Deployment = KubeObject & {
      spec: { replicas: number; template: { spec: { containers: { args: string[] }[] } } };
    };
    const manager = await admin.get<Deployment>(resources.deployments, "kaito-manager", namespace);
    const rendered = objects.find(
      (o) => o.kind === "Deployment" && o.metadata?.name === "kaito-manager",
    ) as unknown as Deployment;
    expect(manager.spec.template.spec.containers[0]!.args).toEqual(
      rendered.spec.template.spec.containers[0]!.args,
    );
    expect(manager.spec.template.spec.containers[0]!.args).toContain(
      `--leader-election-namespace=${namespace}`,
    );
    const nodes = await admin.get<KubeObject & { rules: unknown[] }>(
      resourceOf({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole" }),
      "kaito-manager-nodes",
    );
    expect(nodes.rules).toEqual([{ apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] }]);

    // The leader writes the CA into both configurations (the manager's own code does it here).
    const { caCert } = generateServingCertificates({
      dnsNames: [`kaito-webhook.${namespace}.svc`],
      now: Date.now(),
    });
    expect(await patchCaBundles(admin, webhookConfigurationTargets("kaito-ts-workspaces"), caCert)).toEqual(
      [],
    );
    run(
      "upgrade",
      release,
      chartDir,
      "--namespace",
      namespace,
      "--set",
      "nodeProvisioner=byo",
      "--set",
      "replicas=1",
    );
    const ca = Buffer.from(caCert).toString("base64");
    for (const r of [mutatingWebhookConfigurations, validatingWebhookConfigurations]) {
      const config = await admin.get<KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] }>(
        r,
        "kaito-ts-workspaces",
      );
      for (const w of config.webhooks) expect(w.clientConfig.caBundle, r.kind).toBe(ca);
    }
    expect(
      (await admin.get<Deployment>(resources.deployments, "kaito-manager", namespace)).spec.replicas,
    ).toBe(1);

    run("uninstall", release, "--namespace", namespace);
    installed = false;
    for (const o of objects)
      expect(await exists(o), `${o.kind} ${o.metadata?.name} after uninstall`).toBe(false);
    // CRDs stay, as Helm never deletes them (the Workspaces in them would go too).
    const crd = parse(readFileSync(path.join(chartDir, "crds/workspaces.kaito.sh.yaml"), "utf8")) as Manifest;
    expect(
      await exists({ ...crd, apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" }),
    ).toBe(true);
  });

  it("renders, for every node provisioner, objects the API server accepts with strict field validation", async () => {
    // A server-side dry run of each object as `helm template` renders it for this cluster: a
    // misspelt or misplaced field in a template is an error here, not a silently dropped field.
    for (const mode of ["karpenter", "azure-gpu-provisioner", "builtin", "byo"]) {
      const objects = helmTemplate(["--namespace", namespace, "--set", `nodeProvisioner=${mode}`]);
      for (const o of objects) {
        const r = resourceOf(o);
        await admin
          .request(
            "POST",
            collectionPath(r, r.namespaced ? (o.metadata?.namespace ?? namespace) : undefined),
            {
              body: o,
              query: { dryRun: "All", fieldValidation: "Strict" },
            },
          )
          .catch((e: unknown) => {
            throw new Error(`${mode}: ${o.kind} ${o.metadata?.name} refused: ${String(e)}`, { cause: e });
          });
      }
    }
  });
});
