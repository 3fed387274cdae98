import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";

interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  [key: string]: unknown;
}
interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

const deployDir = import.meta.dirname;
// monitoring/ holds Prometheus rule files, not Kubernetes objects; monitoring.test.ts checks them.
const files = yamlFiles(deployDir).filter(
  (f) => !f.startsWith(path.join(deployDir, "monitoring") + path.sep),
);
const manifests: { file: string; doc: Manifest }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(file, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file: path.relative(deployDir, file), doc: d.toJS() as Manifest };
  }),
);
const byKind = (kind: string) => manifests.filter((m) => m.doc?.kind === kind);
const roles = [...byKind("Role"), ...byKind("ClusterRole")];

describe("deploy/ manifests", () => {
  it("parse, and every object names its kind", () => {
    expect(files.length).toBeGreaterThan(0);
    for (const { file, doc } of manifests) expect(doc?.kind, file).toBeTruthy();
  });

  it("grant nothing through a wildcard", () => {
    expect(roles.length).toBeGreaterThanOrEqual(3);
    for (const { file, doc } of roles) {
      const rules = (doc.rules ?? []) as Rule[];
      expect(rules.length, `${file} ${doc.metadata?.name}`).toBeGreaterThan(0);
      for (const rule of rules) {
        const where = `${file} ${doc.kind}/${doc.metadata?.name}: ${JSON.stringify(rule)}`;
        for (const field of ["apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"] as const)
          for (const value of rule[field] ?? []) expect(value, where).not.toContain("*");
        // Explicit lists: an absent apiGroups or verbs is as vague as a wildcard.
        expect(rule.apiGroups, where).toBeDefined();
        expect(rule.resources?.length, where).toBeGreaterThan(0);
        expect(rule.verbs?.length, where).toBeGreaterThan(0);
      }
    }
    // An aggregated role fills its rules from labels, which no test here could bound.
    for (const { doc } of byKind("ClusterRole")) expect(doc.aggregationRule).toBeUndefined();
  });

  it("never let the manager read secrets or escalate its own rights", () => {
    for (const { doc } of roles)
      for (const rule of (doc.rules ?? []) as Rule[]) {
        expect(rule.resources).not.toContain("secrets");
        for (const r of rule.resources ?? [])
          if (["roles", "clusterroles", "rolebindings", "clusterrolebindings"].includes(r))
            throw new Error(`${doc.metadata?.name} may touch ${r}`);
        expect(rule.verbs).not.toContain("escalate");
        expect(rule.verbs).not.toContain("bind");
        expect(rule.verbs).not.toContain("impersonate");
      }
  });

  it("bind every role to the manager's ServiceAccount", () => {
    const roleNames = new Set(roles.map((r) => `${r.doc.kind}/${r.doc.metadata?.name}`));
    const bindings = [...byKind("RoleBinding"), ...byKind("ClusterRoleBinding")];
    const bound = new Set<string>();
    for (const { doc } of bindings) {
      const ref = doc.roleRef as { kind: string; name: string };
      expect(roleNames, `${doc.metadata?.name} refers to a role deploy/ defines`).toContain(
        `${ref.kind}/${ref.name}`,
      );
      expect(doc.subjects).toEqual([
        { kind: "ServiceAccount", name: "kaito-manager", namespace: "kaito-system" },
      ]);
      bound.add(`${ref.kind}/${ref.name}`);
    }
    expect([...bound].sort()).toEqual([...roleNames].sort());
  });

  it("run two replicas of the manager with leader election and probes on 8081", () => {
    const [deployment, ...others] = byKind("Deployment");
    expect(others).toHaveLength(0);
    const spec = deployment!.doc.spec as {
      replicas: number;
      template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    };
    expect(spec.replicas).toBe(2);
    const pod = spec.template.spec;
    expect(pod.serviceAccountName).toBe("kaito-manager");
    const [container] = pod.containers as {
      image: string;
      args: string[];
      livenessProbe: { httpGet: { path: string; port: number } };
      readinessProbe: { httpGet: { path: string; port: number } };
      resources: { requests: object; limits: object };
      securityContext: Record<string, unknown>;
    }[];
    expect(container!.image).toBe("kaito-ts:latest");
    expect(container!.args).toContain("--leader-elect");
    expect(container!.args).toContain("--leader-election-namespace=kaito-system");
    expect(container!.livenessProbe.httpGet).toEqual({ path: "/healthz", port: 8081 });
    expect(container!.readinessProbe.httpGet).toEqual({ path: "/readyz", port: 8081 });
    expect(container!.resources.requests).toMatchObject({
      cpu: expect.anything(),
      memory: expect.anything(),
    });
    expect(container!.resources.limits).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    expect(container!.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
    });
    expect((pod.securityContext as { runAsNonRoot: boolean }).runAsNonRoot).toBe(true);
  });

  it("expose metrics, the extender and the planner on their contract ports", () => {
    const ports = byKind("Service").flatMap(({ doc }) =>
      (doc.spec as { ports: { port: number }[] }).ports.map((p) => p.port),
    );
    expect(ports.sort()).toEqual([8080, 8888, 9090]);
  });

  it("kustomization lists files that exist, the CRDs included", () => {
    const file = path.join(deployDir, "manager/kustomization.yaml");
    const k = parseAllDocuments(readFileSync(file, "utf8"))[0]!.toJS() as { resources: string[] };
    for (const r of k.resources) expect(() => readFileSync(path.join(deployDir, "manager", r))).not.toThrow();
    expect(k.resources).toContain("../../crds/workspaces.kaito.sh.yaml");
    expect(k.resources).toContain("../../crds/machines.karpenter.sh.yaml");
  });
});
