// charts/kaito-ts checked with the real helm (scripts/helm-binary.sh): it lints, and for every
// node provisioner it renders exactly the objects deploy/ applies for that mode, so the two cannot
// drift; plus what only the chart does (kube-scheduler's tag from the cluster, the PrometheusRule
// where the CRD is served, the values).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { chartDir, helm, helmTemplate } from "../../test/harness/helm.ts";
import { kustomizeBuild, readManifests, type Manifest } from "../../test/harness/kustomize.ts";

const repo = path.resolve(import.meta.dirname, "../..");
const kubeVersion = ["--kube-version", "v1.37.2"];
/** deploy/node-provisioner/<dir> for each value of nodeProvisioner. */
const modes = {
  karpenter: "karpenter",
  "azure-gpu-provisioner": "azure-gpu-provisioner",
  builtin: "builtin-azure",
  byo: "byo",
} as const;

/** Helm's own labels and the checksum that rolls pods on a config change: not in deploy/. */
function withoutHelmBookkeeping(o: Manifest): Manifest {
  const copy = structuredClone(o);
  const labels = copy.metadata?.labels;
  if (labels)
    for (const l of [
      "helm.sh/chart",
      "app.kubernetes.io/managed-by",
      "app.kubernetes.io/instance",
      "app.kubernetes.io/version",
    ])
      delete labels[l];
  const template = (copy.spec as { template?: { metadata?: { annotations?: Record<string, string> } } })
    ?.template;
  if (template?.metadata?.annotations) {
    delete template.metadata.annotations["checksum/config"];
    if (Object.keys(template.metadata.annotations).length === 0) delete template.metadata.annotations;
  }
  return copy;
}

const key = (o: Manifest) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
const byKey = (objects: Manifest[]) => Object.fromEntries(objects.map((o) => [key(o), o]));

describe("charts/kaito-ts", () => {
  it("passes helm lint, strict, for every node provisioner", () => {
    for (const mode of Object.keys(modes)) {
      const out = helm(["lint", "--strict", chartDir, "--set", `nodeProvisioner=${mode}`, ...kubeVersion]);
      expect(out, mode).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it("renders for every node provisioner exactly what deploy/node-provisioner/<mode> applies", () => {
    for (const [mode, dir] of Object.entries(modes)) {
      const chart = byKey(
        helmTemplate(["--set", `nodeProvisioner=${mode}`, ...kubeVersion]).map(withoutHelmBookkeeping),
      );
      // The chart leaves the namespace to `helm install --create-namespace`.
      const deploy = byKey(
        kustomizeBuild(path.join(repo, "deploy/node-provisioner", dir)).filter((o) => o.kind !== "Namespace"),
      );
      expect(Object.keys(chart).sort(), mode).toEqual(Object.keys(deploy).sort());
      for (const k of Object.keys(deploy)) expect(chart[k], `${mode}: ${k}`).toEqual(deploy[k]);
    }
  });

  it("installs the repository's CRDs, one source through the crds/ link", () => {
    const shown = helm(["show", "crds", chartDir]);
    const fromChart = shown
      .split(/^---$/m)
      .map((d) => parse(d) as Manifest | null)
      .filter((m): m is Manifest => m !== null)
      .map((m) => m.metadata?.name)
      .sort();
    const crdFiles = readdirSync(path.join(repo, "crds")).filter((f) => f.endsWith(".yaml"));
    const fromRepo = crdFiles
      .flatMap((f) => readManifests(path.join(repo, "crds", f)))
      .map((m) => m.metadata?.name);
    expect(fromChart).toEqual(fromRepo.sort());
    expect(fromChart.length).toBeGreaterThanOrEqual(2);
  });

  it("takes kube-scheduler's tag from the cluster's version, without a vendor suffix, unless told", () => {
    const image = (objects: Manifest[]) => {
      const d = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "kaito-scheduler")!;
      return (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec
        .containers[0]!.image;
    };
    expect(image(helmTemplate(["--kube-version", "v1.33.5-eks-3025e55"]))).toBe(
      "registry.k8s.io/kube-scheduler:v1.33.5",
    );
    expect(image(helmTemplate(["--kube-version", "v1.32.4"]))).toBe("registry.k8s.io/kube-scheduler:v1.32.4");
    expect(image(helmTemplate([...kubeVersion, "--set", "scheduler.image.tag=v1.36.0"]))).toBe(
      "registry.k8s.io/kube-scheduler:v1.36.0",
    );
  });

  it("makes the PrometheusRule from deploy/monitoring's rules only where the cluster serves it", () => {
    const rule = (objects: Manifest[]) => objects.filter((o) => o.kind === "PrometheusRule");
    expect(rule(helmTemplate(kubeVersion))).toEqual([]);
    const [made] = rule(
      helmTemplate([...kubeVersion, "--api-versions", "monitoring.coreos.com/v1/PrometheusRule"]),
    );
    const file = parse(
      readFileSync(path.join(repo, "deploy/monitoring/prometheus-rules.yaml"), "utf8"),
    ) as object;
    expect(made!.spec).toEqual(file);
    expect(
      rule(
        helmTemplate([
          ...kubeVersion,
          "--api-versions",
          "monitoring.coreos.com/v1/PrometheusRule",
          "--set",
          "monitoring.prometheusRule=false",
        ]),
      ),
    ).toEqual([]);
  });

  it("leaves the webhooks' caBundle to the manager, and the scheduler out when disabled", () => {
    const objects = helmTemplate(kubeVersion);
    for (const kind of ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]) {
      const config = objects.find((o) => o.kind === kind)! as Manifest & {
        webhooks: { clientConfig: Record<string, unknown> }[];
      };
      for (const w of config.webhooks) expect(w.clientConfig.caBundle, kind).toBeUndefined();
    }
    const without = helmTemplate([...kubeVersion, "--set", "scheduler.enabled=false"]);
    expect(without.filter((o) => o.metadata?.name?.startsWith("kaito-scheduler"))).toEqual([]);
    const manager = without.find((o) => o.kind === "Deployment" && o.metadata?.name === "kaito-manager")!;
    const args = (manager.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec
      .containers[0]!.args;
    expect(args.some((a) => a.startsWith("--scheduler-name"))).toBe(false);
  });

  it("takes the Azure settings, node class, leader timings and image from its values", () => {
    const objects = helmTemplate([
      ...kubeVersion,
      "--set",
      "nodeProvisioner=builtin,cloud.azure.subscriptionId=sub,cloud.azure.location=eastus,cloud.workloadIdentityClientId=cid",
      "--set",
      "image.repository=example.azurecr.io/kaito-ts,image.tag=0.1.0,leaderElection.leaseDuration=30s",
    ]);
    const config = objects.find(
      (o) => o.kind === "ConfigMap" && o.metadata?.name === "kaito-azure",
    ) as Manifest & {
      data: Record<string, string>;
    };
    expect(config.data).toMatchObject({ AZURE_SUBSCRIPTION_ID: "sub", AZURE_LOCATION: "eastus" });
    const sa = objects.find((o) => o.kind === "ServiceAccount" && o.metadata?.name === "kaito-manager")!;
    expect((sa.metadata as { annotations?: Record<string, string> }).annotations).toEqual({
      "azure.workload.identity/client-id": "cid",
    });
    const manager = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "kaito-manager")!;
    const container = (
      manager.spec as { template: { spec: { containers: { args: string[]; image: string }[] } } }
    ).template.spec.containers[0]!;
    expect(container.image).toBe("example.azurecr.io/kaito-ts:0.1.0");
    expect(container.args).toContain("--leader-elect-lease-duration=30s");

    const karpenter = helmTemplate([
      ...kubeVersion,
      "--set",
      "nodeClass=karpenter.k8s.aws/EC2NodeClass/default",
    ]);
    const args = (
      karpenter.find((o) => o.kind === "Deployment" && o.metadata?.name === "kaito-manager")!.spec as {
        template: { spec: { containers: { args: string[] }[] } };
      }
    ).template.spec.containers[0]!.args;
    expect(args.slice(0, 2)).toEqual([
      "--node-provisioner=karpenter",
      "--node-class=karpenter.k8s.aws/EC2NodeClass/default",
    ]);
  });

  it("refuses a node provisioner it does not know, saying which ones it does", () => {
    expect(() => helmTemplate([...kubeVersion, "--set", "nodeProvisioner=gpu-provisioner"])).toThrow(
      /nodeProvisioner must be one of karpenter, azure-gpu-provisioner, builtin, byo, got "gpu-provisioner"/,
    );
  });
});
