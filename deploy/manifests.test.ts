import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { gpuTaint } from "../controller/workspace/machines.ts";
import { azureFlags } from "../provisioner/cloud/azure/config.ts";
import { kubeSchedulerConfig, kubeSchedulerConfigFile } from "../scheduler/scheduler-config.ts";
import { mutatingConfiguration, validatingConfiguration } from "../webhook/index.ts";
import { kustomizeBuild, type Manifest } from "../test/harness/kustomize.ts";
import { plannerCallVerb } from "../planner/grpc/auth.ts";
import { plannerService } from "../planner/grpc/proto.ts";

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
// node-provisioner/ holds overlays of manager/ (patches and the objects they add), built below.
const files = yamlFiles(deployDir).filter(
  (f) =>
    !f.startsWith(path.join(deployDir, "monitoring") + path.sep) &&
    !f.startsWith(path.join(deployDir, "node-provisioner") + path.sep),
);
const manifests: { file: string; doc: Manifest }[] = files.flatMap((file) =>
  parseAllDocuments(readFileSync(file, "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return { file: path.relative(deployDir, file), doc: d.toJS() as Manifest };
  }),
);
const byKind = (kind: string) => manifests.filter((m) => m.doc?.kind === kind);
const roles = [...byKind("Role"), ...byKind("ClusterRole")];
const named = (kind: string, name: string, objects: Manifest[] = manifests.map((m) => m.doc)) => {
  const found = objects.find((m) => m.kind === kind && m.metadata?.name === name);
  if (!found) throw new Error(`deploy/ has no ${kind} ${name}`);
  return found;
};

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  restartPolicy?: string;
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: number; scheme?: string } };
  readinessProbe?: { httpGet: { path: string; port: number; scheme?: string } };
  resources: { requests: object; limits: object };
  securityContext: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName: string;
  securityContext: { runAsNonRoot?: boolean };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; configMap?: { name: string } }[];
}
function deployment(name: string, objects?: Manifest[]): { replicas: number; pod: PodSpec } {
  const spec = named("Deployment", name, objects).spec as { replicas: number; template: { spec: PodSpec } };
  return { replicas: spec.replicas, pod: spec.template.spec };
}

/** Every deploy/node-provisioner/<mode> overlay, built as `kubectl kustomize` would. */
const modes = ["karpenter", "azure-gpu-provisioner", "builtin-azure", "byo"] as const;
const builds = Object.fromEntries(
  modes.map((m) => [m, kustomizeBuild(path.join(deployDir, "node-provisioner", m))]),
) as Record<(typeof modes)[number], Manifest[]>;
const azureBuild = builds["builtin-azure"];
/** The value of `--flag=value` in a container's arguments. */
function flag(args: string[] | undefined, name: string): string | undefined {
  return args?.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** deploy/scheduler's configMapGenerator: the ConfigMap kustomize makes from the scheduler's file. */
const schedulerKustomization = parse(
  readFileSync(path.join(deployDir, "scheduler/kustomization.yaml"), "utf8"),
) as { configMapGenerator: { name: string; namespace: string; files: string[] }[] };
const [schedulerConfigMap] = schedulerKustomization.configMapGenerator;
const schedulerConfig = parse(
  readFileSync(path.join(deployDir, "scheduler", schedulerConfigMap!.files[0]!), "utf8"),
) as {
  profiles: { schedulerName: string }[];
  leaderElection: Record<string, unknown>;
  extenders: { urlPrefix: string }[];
};

/** ClusterRoles and Roles that every cluster carries, which deploy/ binds but does not define. */
const builtInRoles = [
  "ClusterRole/system:kube-scheduler",
  "ClusterRole/system:volume-scheduler",
  "Role/extension-apiserver-authentication-reader",
];
/** Roles deploy/ defines for others to bind: reading /metrics, calling the planner. */
const callerRoles = ["ClusterRole/kaito-ts-metrics-reader", "ClusterRole/kaito-ts-planner-client"];
const serviceAccount = (name: string) => ({ kind: "ServiceAccount", name, namespace: "kaito-system" });

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
        // Explicit lists: an absent apiGroups or verbs is as vague as a wildcard. A rule names
        // either resources or non-resource URLs (the callers' roles), never both.
        expect(rule.verbs?.length, where).toBeGreaterThan(0);
        if (rule.nonResourceURLs) {
          expect(doc.kind, where).toBe("ClusterRole");
          expect(rule.apiGroups ?? rule.resources, where).toBeUndefined();
          continue;
        }
        expect(rule.apiGroups, where).toBeDefined();
        expect(rule.resources?.length, where).toBeGreaterThan(0);
      }
    }
    // An aggregated role fills its rules from labels, which no test here could bound.
    for (const { doc } of byKind("ClusterRole")) expect(doc.aggregationRule).toBeUndefined();
  });

  it("never let the manager list secrets nor escalate its own rights", () => {
    for (const { doc } of roles)
      for (const rule of (doc.rules ?? []) as Rule[]) {
        if (rule.resources?.includes("secrets")) {
          const where = `${doc.kind} ${doc.metadata?.name}`;
          expect(rule.resources, where).toEqual(["secrets"]);
          if (doc.kind === "ClusterRole") {
            // The Secret a Workspace names in modelAccessSecret, read by name for its HF_TOKEN.
            expect(rule.verbs, where).toEqual(["get"]);
          } else {
            // The webhook's own certificate Secret, by name, in the manager's namespace (create
            // cannot be limited by name, and reads nothing).
            expect(doc.kind, where).toBe("Role");
            expect(doc.metadata?.namespace, where).toBe("kaito-system");
            if (rule.verbs?.some((v) => v !== "create")) {
              expect(rule.resourceNames, where).toEqual(["kaito-webhook-cert"]);
              expect(rule.verbs, where).not.toContain("list");
              expect(rule.verbs, where).not.toContain("watch");
            }
          }
        }
        for (const r of rule.resources ?? [])
          if (["roles", "clusterroles", "rolebindings", "clusterrolebindings"].includes(r))
            throw new Error(`${doc.metadata?.name} may touch ${r}`);
        expect(rule.verbs).not.toContain("escalate");
        expect(rule.verbs).not.toContain("bind");
        expect(rule.verbs).not.toContain("impersonate");
      }
  });

  it("bind every role deploy/ defines, and only the built-in roles named, to deploy/'s ServiceAccounts", () => {
    const roleNames = new Set(roles.map((r) => `${r.doc.kind}/${r.doc.metadata?.name}`));
    const accounts = byKind("ServiceAccount").map(({ doc }) => serviceAccount(doc.metadata!.name!));
    expect(accounts.map((a) => a.name).sort()).toEqual(["kaito-manager", "kaito-scheduler"]);
    const bindings = [...byKind("RoleBinding"), ...byKind("ClusterRoleBinding")];
    const bound = new Set<string>();
    for (const { doc } of bindings) {
      const ref = `${(doc.roleRef as { kind: string }).kind}/${(doc.roleRef as { name: string }).name}`;
      const where = `${doc.kind}/${doc.metadata?.name} -> ${ref}`;
      expect([...roleNames, ...builtInRoles], where).toContain(ref);
      const subjects = doc.subjects as { name: string }[];
      expect(subjects, where).toHaveLength(1);
      expect(accounts, where).toContainEqual(subjects[0]);
      // The cluster's scheduler roles go to the scheduler alone, never to the manager.
      if (builtInRoles.includes(ref)) expect(subjects[0]!.name, where).toBe("kaito-scheduler");
      bound.add(ref);
    }
    // The callers' roles are for the operator's users to bind to Prometheus and planner clients.
    for (const role of roleNames)
      if (!callerRoles.includes(role)) expect(bound, `${role} is bound`).toContain(role);
    for (const role of callerRoles) expect(bound, role).not.toContain(role);
    // A RoleBinding grants a Role of its own namespace only.
    for (const { doc } of byKind("RoleBinding")) {
      const ref = doc.roleRef as { kind: string; name: string };
      if (ref.kind !== "Role" || builtInRoles.includes(`Role/${ref.name}`)) continue;
      expect(named("Role", ref.name).metadata?.namespace).toBe(doc.metadata?.namespace);
    }
  });

  it("leave pod bindings to the kaito-scheduler: the manager serves no extender", () => {
    const managerRoles = [...byKind("RoleBinding"), ...byKind("ClusterRoleBinding")]
      .filter(({ doc }) => (doc.subjects as { name: string }[])[0]!.name === "kaito-manager")
      .map(({ doc }) => doc.roleRef as { kind: string; name: string })
      .map((ref) => named(ref.kind, ref.name));
    expect(managerRoles.length).toBeGreaterThanOrEqual(2);
    for (const role of managerRoles)
      for (const rule of (role.rules ?? []) as Rule[]) {
        expect(rule.resources, role.metadata?.name).not.toContain("pods/binding");
        expect(rule.resources, role.metadata?.name).not.toContain("bindings");
      }
    const [manager] = deployment("kaito-manager").pod.containers;
    const components = flag(manager!.args, "components")?.split(",");
    expect(components).toEqual(expect.arrayContaining(["workspace", "provisioner", "planner"]));
    expect(components).not.toContain("extender");
    expect(flag(manager!.args, "extender-bind-address")).toBeUndefined();
  });

  it("run two replicas of the manager with leader election and probes on 8081", () => {
    expect(
      byKind("Deployment")
        .map(({ doc }) => doc.metadata?.name)
        .sort(),
    ).toEqual(["kaito-manager", "kaito-scheduler"]);
    const { replicas, pod } = deployment("kaito-manager");
    expect(replicas).toBe(2);
    expect(pod.serviceAccountName).toBe("kaito-manager");
    const [container] = pod.containers;
    expect(container!.image).toBe("kaito-ts:latest");
    expect(container!.args).toContain("--leader-elect");
    expect(container!.args).toContain("--leader-election-namespace=kaito-system");
    expect(container!.livenessProbe!.httpGet).toEqual({ path: "/healthz", port: 8081 });
    expect(container!.readinessProbe!.httpGet).toEqual({ path: "/readyz", port: 8081 });
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
    expect(pod.securityContext.runAsNonRoot).toBe(true);
  });

  it("give the manager every Azure setting the azure cloud requires, from the kaito-azure ConfigMap", () => {
    const { pod } = deployment("kaito-manager", azureBuild);
    const [container] = pod.containers as (PodSpec["containers"][number] & {
      envFrom?: { configMapRef?: { name: string } }[];
    })[];
    expect(container!.args).toContain("--cloud=azure");
    expect(container!.envFrom).toEqual([{ configMapRef: { name: "kaito-azure" } }]);
    const settings = named("ConfigMap", "kaito-azure", azureBuild) as Manifest & {
      data: Record<string, string>;
    };
    const required = [
      azureFlags.subscriptionId,
      azureFlags.resourceGroup,
      azureFlags.location,
      azureFlags.subnetId,
    ];
    expect(Object.keys(settings.data).sort()).toEqual(required.map((f) => f.env).sort());
  });

  it("give the manager the VMs' join data as a file from a Secret it cannot read through the API", () => {
    const { pod } = deployment("kaito-manager", azureBuild);
    const [container] = pod.containers as (PodSpec["containers"][number] & {
      env?: { name: string; value?: string }[];
    })[];
    const file = container!.env?.find((e) => e.name === azureFlags.joinDataFile.env)?.value;
    expect(file).toBeDefined();
    const mount = container!.volumeMounts!.find((m) => file!.startsWith(`${m.mountPath}/`))!;
    // No subPath: the kubelet then updates the file in place when the Secret changes.
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount.subPath).toBeUndefined();
    const volume = (
      pod.volumes as { name: string; secret?: { secretName: string; optional?: boolean } }[]
    ).find((v) => v.name === mount.name);
    expect(volume?.secret).toEqual({ secretName: "kaito-node-join-data", optional: true });
    expect(path.basename(file!)).toBe("cloud-init");
    // The join data holds a bootstrap token: never a plain value in a manifest or the ConfigMap.
    expect(JSON.stringify(named("ConfigMap", "kaito-azure", azureBuild))).not.toMatch(/JOIN_DATA/);
    for (const objects of Object.values(builds))
      expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
  });

  it("run the NVIDIA device plugin, pinned to a release, on the GPU nodes workspaces get", () => {
    const ds = named("DaemonSet", "nvidia-device-plugin-daemonset");
    expect(ds.metadata?.namespace).toBe("kube-system");
    const pod = (
      ds.spec as {
        template: {
          spec: PodSpec & {
            priorityClassName: string;
            nodeSelector: Record<string, string>;
            tolerations: { key: string; operator: string; value?: string; effect?: string }[];
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: {
                    matchExpressions: { key: string; operator: string; values?: string[] }[];
                  }[];
                };
              };
            };
          };
        };
      }
    ).template.spec;
    const [plugin, ...others] = pod.containers;
    expect(others).toHaveLength(0);
    expect(plugin!.image).toMatch(/^nvcr\.io\/nvidia\/k8s-device-plugin:v\d+\.\d+\.\d+$/);
    expect(plugin!.volumeMounts).toEqual([
      { name: "device-plugin", mountPath: "/var/lib/kubelet/device-plugins" },
    ]);
    expect(pod.priorityClassName).toBe("system-node-critical");

    // A workspace node: what a Machine's labels and taint put on it (after registration at the
    // latest). Any one node-affinity term must match it, and a tolerance must cover the taint.
    const workspaceNode = {
      "kubernetes.io/os": "linux",
      "kaito.sh/workspace": "phi-3",
      "kaito.sh/workspacenamespace": "default",
      "node.kubernetes.io/instance-type": "Standard_NC24ads_A100_v4",
    };
    const cpuNode = { "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "Standard_D4s_v5" };
    const matches = (labels: Record<string, string>) =>
      Object.entries(pod.nodeSelector).every(([k, v]) => labels[k as keyof typeof labels] === v) &&
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.some((t) =>
        t.matchExpressions.every((e) => {
          const value = (labels as Record<string, string>)[e.key];
          if (e.operator === "Exists") return value !== undefined;
          if (e.operator === "In") return value !== undefined && e.values!.includes(value);
          throw new Error(`the test does not evaluate ${e.operator}`);
        }),
      );
    expect(matches(workspaceNode)).toBe(true);
    expect(matches({ ...cpuNode, "kubernetes.azure.com/accelerator": "nvidia" })).toBe(true);
    expect(matches(cpuNode)).toBe(false);
    expect(
      pod.tolerations.some(
        (t) =>
          t.key === gpuTaint.key &&
          t.effect === gpuTaint.effect &&
          (t.operator === "Exists" || (t.operator === "Equal" && t.value === gpuTaint.value)),
      ),
    ).toBe(true);
  });

  it("run two replicas of the kaito-scheduler, each kube-scheduler with its own extender beside it", () => {
    const { replicas, pod } = deployment("kaito-scheduler");
    expect(replicas).toBe(2);
    expect(pod.serviceAccountName).toBe("kaito-scheduler");
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const [scheduler, ...otherContainers] = pod.containers;
    const [extender, ...otherInits] = pod.initContainers ?? [];
    expect(otherContainers).toHaveLength(0);
    expect(otherInits).toHaveLength(0);

    // The local cluster builds kube-scheduler from the same Kubernetes release.
    const script = readFileSync(path.join(deployDir, "../scripts/control-plane-binaries.sh"), "utf8");
    const version = /^KUBERNETES_VERSION=(\S+)$/m.exec(script)![1];
    expect(scheduler!.image).toBe(`registry.k8s.io/kube-scheduler:${version}`);
    // --config is the generated ConfigMap's file, mounted from the volume that names it.
    const configFile = flag(scheduler!.command, "config")!;
    const mount = scheduler!.volumeMounts!.find((m) => configFile.startsWith(`${m.mountPath}/`))!;
    expect(configFile).toBe(`${mount.mountPath}/${path.basename(kubeSchedulerConfigFile)}`);
    expect(pod.volumes!.find((v) => v.name === mount.name)?.configMap?.name).toBe(schedulerConfigMap!.name);
    expect(scheduler!.livenessProbe!.httpGet).toEqual({ path: "/healthz", port: 10259, scheme: "HTTPS" });

    // A sidecar: started before kube-scheduler, stopped after it.
    expect(extender!.restartPolicy).toBe("Always");
    expect(extender!.image).toBe("kaito-ts:latest");
    expect(flag(extender!.args, "components")).toBe("extender");
    // Loopback only: nothing but this pod's kube-scheduler may ask it to bind pods.
    expect(flag(extender!.args, "extender-bind-address")).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(extender!.livenessProbe!.httpGet).toEqual({ path: "/healthz", port: 8081 });
    expect(flag(extender!.args, "health-probe-bind-address")).toBe("0.0.0.0:8081");
    expect(flag(extender!.args, "metrics-bind-address")).toBe("0.0.0.0:8080");
    for (const c of [scheduler!, extender!]) {
      expect(c.resources.requests, c.name).toMatchObject({
        cpu: expect.anything(),
        memory: expect.anything(),
      });
      expect(c.resources.limits, c.name).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
      expect(c.securityContext, c.name).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        privileged: false,
      });
    }
  });

  it("configure the kaito-scheduler from the one file scheduler/ reads, for the extender beside it", () => {
    expect(path.join(deployDir, "scheduler", schedulerConfigMap!.files[0]!)).toBe(kubeSchedulerConfigFile);
    expect(schedulerConfigMap!.namespace).toBe("kaito-system");
    const extenderAddress = flag(
      deployment("kaito-scheduler").pod.initContainers![0]!.args,
      "extender-bind-address",
    );
    expect(schedulerConfig.extenders).toEqual(
      kubeSchedulerConfig({ url: `http://${extenderAddress}` }).extenders,
    );
    expect(schedulerConfig.extenders[0]!.urlPrefix).toBe("http://127.0.0.1:8888");
    // The profile is the name the manager puts on the workspace pods.
    const [manager] = deployment("kaito-manager").pod.containers;
    expect(schedulerConfig.profiles).toEqual([{ schedulerName: flag(manager!.args, "scheduler-name") }]);
    // Only the Lease holder schedules, and its Role covers that Lease.
    expect(schedulerConfig.leaderElection).toMatchObject({ leaderElect: true, resourceLock: "leases" });
    const lease = named("Role", "kaito-scheduler-leader-election");
    expect(lease.metadata?.namespace).toBe(schedulerConfig.leaderElection.resourceNamespace);
    const byName = (lease.rules as Rule[]).find((r) => r.resourceNames);
    expect(byName).toEqual({
      apiGroups: ["coordination.k8s.io"],
      resources: ["leases"],
      resourceNames: [schedulerConfig.leaderElection.resourceName],
      verbs: ["get", "update"],
    });
  });

  it("expose metrics, the planner and the webhook on their contract ports, and the extender nowhere", () => {
    const ports = byKind("Service").map(({ doc }) => [
      doc.metadata?.name,
      (doc.spec as { ports: { port: number }[] }).ports.map((p) => p.port),
    ]);
    expect(ports.sort()).toEqual([
      ["kaito-manager-metrics", [8080]],
      ["kaito-planner", [9090]],
      ["kaito-scheduler-metrics", [8080]],
      ["kaito-webhook", [443]],
    ]);
  });

  it("kustomizations list every manifest beside them, and files that exist", () => {
    for (const dir of ["manager", "scheduler", "device-plugin"]) {
      const file = path.join(deployDir, dir, "kustomization.yaml");
      const k = parse(readFileSync(file, "utf8")) as { resources: string[] };
      for (const r of k.resources) {
        const target = path.join(deployDir, dir, r);
        // kustomize takes files in or below the kustomization's directory, or other kustomizations.
        if (r.startsWith("..")) expect(existsSync(path.join(target, "kustomization.yaml")), r).toBe(true);
        else expect(existsSync(target), r).toBe(true);
      }
      const objects = manifests
        .filter(
          (m) =>
            path.dirname(m.file) === dir &&
            !["Kustomization", "KubeSchedulerConfiguration"].includes(m.doc.kind!),
        )
        .map((m) => path.basename(m.file));
      for (const f of objects) expect(k.resources, `${dir}/${f}`).toContain(f);
    }
    const manager = parse(readFileSync(path.join(deployDir, "manager/kustomization.yaml"), "utf8")) as {
      resources: string[];
    };
    expect(manager.resources).toContain("../scheduler");
  });

  // kubectl carries kustomize; where it is installed, build what `kubectl apply -k` would apply.
  const kubectl = (process.env.PATH ?? "")
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, "kubectl"))
    .find((f) => existsSync(f));
  it.skipIf(!kubectl)("build with kubectl kustomize: the scheduler mounts the generated ConfigMap", () => {
    const out = execFileSync(kubectl!, ["kustomize", path.join(deployDir, "manager")], { encoding: "utf8" });
    const built = parseAllDocuments(out).map((d) => d.toJS() as Manifest);
    const kinds = (kind: string) => built.filter((o) => o.kind === kind);
    expect(
      kinds("Deployment")
        .map((d) => d.metadata?.name)
        .sort(),
    ).toEqual(["kaito-manager", "kaito-scheduler"]);
    const configMaps = kinds("ConfigMap") as (Manifest & { data: Record<string, string> })[];
    // The generated one carries a content hash.
    const generated = new RegExp(`^${schedulerConfigMap!.name}-[a-z0-9]+$`);
    expect(configMaps.map((c) => c.metadata?.name).sort()).toEqual([expect.stringMatching(generated)]);
    const configMap = configMaps.find((c) => generated.test(c.metadata?.name ?? ""));
    expect(configMap!.metadata?.namespace).toBe("kaito-system");
    expect(parse(configMap!.data[path.basename(kubeSchedulerConfigFile)]!)).toEqual(schedulerConfig);
    const scheduler = kinds("Deployment").find((d) => d.metadata?.name === "kaito-scheduler")!;
    const volumes = (scheduler.spec as { template: { spec: PodSpec } }).template.spec.volumes!;
    expect(volumes.map((v) => v.configMap?.name)).toContain(configMap!.metadata?.name);
  });

  it.skipIf(!kubectl)("build every node-provisioner overlay as the tests' kustomize does", () => {
    const unhashed = (objects: Manifest[]) =>
      objects.map((o) =>
        JSON.parse(JSON.stringify(o).replaceAll(/"(kaito-scheduler-config)-[a-z0-9]{10}"/g, '"$1"')),
      );
    for (const mode of modes) {
      const out = execFileSync(kubectl!, ["kustomize", path.join(deployDir, "node-provisioner", mode)], {
        encoding: "utf8",
      });
      const real = unhashed(parseAllDocuments(out).map((d) => d.toJS() as Manifest));
      const key = (o: Manifest) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
      const sorted = (l: Manifest[]) => [...l].sort((a, b) => key(a).localeCompare(key(b)));
      expect(sorted(builds[mode]), mode).toEqual(sorted(real));
    }
  });
});

describe("deploy/node-provisioner", () => {
  // What each mode's code calls on nodes (controller/nodeprovision/, provisioner/): informers on
  // Nodes everywhere (GPU gauges, placement); Machines and Node writes only where kaito's own
  // provisioner runs; NodeClaims where Karpenter or gpu-provisioner serve them.
  const nodeRules: Record<(typeof modes)[number], Rule[]> = {
    karpenter: [
      {
        apiGroups: ["karpenter.sh"],
        resources: ["nodeclaims"],
        verbs: ["get", "list", "watch", "create", "patch", "delete"],
      },
      { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
    ],
    "azure-gpu-provisioner": [
      {
        apiGroups: ["karpenter.sh"],
        resources: ["nodeclaims"],
        verbs: ["get", "list", "watch", "create", "patch", "delete"],
      },
      { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
    ],
    "builtin-azure": [
      {
        apiGroups: ["karpenter.sh"],
        resources: ["machines"],
        verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
      },
      { apiGroups: ["karpenter.sh"], resources: ["machines/status"], verbs: ["update"] },
      {
        apiGroups: [""],
        resources: ["nodes"],
        verbs: ["get", "list", "watch", "create", "update", "delete"],
      },
    ],
    byo: [{ apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] }],
  };

  it("run the manager in the directory's mode, with that mode's rights on nodes and no other's", () => {
    for (const mode of modes) {
      const objects = builds[mode];
      const [manager] = deployment("kaito-manager", objects).pod.containers;
      const provisioner = mode === "builtin-azure" ? "builtin" : mode;
      expect(manager!.args![0], mode).toBe(`--node-provisioner=${provisioner}`);
      expect(
        manager!.args!.filter((a) => a.startsWith("--node-provisioner")),
        mode,
      ).toHaveLength(1);
      expect(manager!.args!.includes("--cloud=azure"), mode).toBe(mode === "builtin-azure");
      expect(named("ClusterRole", "kaito-manager-nodes", objects).rules, mode).toEqual(nodeRules[mode]);
      // No other role of the manager touches what the node rules are about.
      for (const rule of named("ClusterRole", "kaito-manager", objects).rules as Rule[])
        for (const r of ["machines", "machines/status", "nodeclaims", "nodes"])
          expect(rule.resources ?? [], `${mode} kaito-manager`).not.toContain(r);
      // Everything else is deploy/manager's, unchanged.
      const others = (l: Manifest[]) =>
        l.filter(
          (o) =>
            !(o.kind === "Deployment" && o.metadata?.name === "kaito-manager") &&
            !(o.kind === "ClusterRole" && o.metadata?.name === "kaito-manager-nodes") &&
            !(o.kind === "ConfigMap" && o.metadata?.name === "kaito-azure"),
        );
      expect(others(objects), mode).toEqual(others(kustomizeBuild(path.join(deployDir, "manager"))));
    }
    // deploy/manager alone is the karpenter mode (AKS Node Auto Provisioning).
    expect(kustomizeBuild(path.join(deployDir, "manager"))).toEqual(builds.karpenter);
  });
});

describe("deploy/'s authenticated endpoints", () => {
  it("check the callers of /metrics and the planner on the manager and of the extender's /metrics", () => {
    const [manager] = deployment("kaito-manager").pod.containers;
    const extender = deployment("kaito-scheduler").pod.initContainers![0]!;
    expect(flag(manager!.args, "endpoint-auth")).toBe("kubernetes");
    expect(flag(extender.args, "endpoint-auth")).toBe("kubernetes");
  });

  it("let both ServiceAccounts ask the API server about their callers", () => {
    const rulesOf = (account: string) =>
      [...byKind("ClusterRoleBinding")]
        .filter(({ doc }) => (doc.subjects as { name: string }[])[0]!.name === account)
        .map(({ doc }) => (doc.roleRef as { name: string }).name)
        .filter((name) => !builtInRoles.includes(`ClusterRole/${name}`))
        .map((name) => named("ClusterRole", name))
        .flatMap((r) => (r.rules ?? []) as Rule[]);
    for (const account of ["kaito-manager", "kaito-scheduler"]) {
      const rules = rulesOf(account);
      expect(rules, account).toContainEqual({
        apiGroups: ["authentication.k8s.io"],
        resources: ["tokenreviews"],
        verbs: ["create"],
      });
      expect(rules, account).toContainEqual({
        apiGroups: ["authorization.k8s.io"],
        resources: ["subjectaccessreviews"],
        verbs: ["create"],
      });
    }
  });

  it("define the callers' roles for exactly the paths and verbs the servers ask about", () => {
    expect(named("ClusterRole", "kaito-ts-metrics-reader").rules).toEqual([
      { nonResourceURLs: ["/metrics"], verbs: ["get"] },
    ]);
    const service = plannerService();
    expect(named("ClusterRole", "kaito-ts-planner-client").rules).toEqual([
      {
        nonResourceURLs: Object.values(service).map((m) => (m as { path: string }).path),
        verbs: [plannerCallVerb],
      },
    ]);
  });
});

describe("deploy/'s NetworkPolicies", () => {
  interface Peer {
    podSelector?: { matchLabels?: Record<string, string> };
    namespaceSelector?: { matchLabels?: Record<string, string> };
  }
  interface Policy {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { from?: Peer[]; ports: { port: number; protocol: string }[] }[];
  }
  const policy = (name: string) => named("NetworkPolicy", name).spec as Policy;
  const matches = (
    selector: { matchLabels?: Record<string, string> } | undefined,
    labels: Record<string, string>,
  ) =>
    selector !== undefined && Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  /** Whether a pod with these labels in this namespace may open `port` on the policy's pods. */
  const admits = (p: Policy, from: { namespace: string; labels: Record<string, string> }, port: number) =>
    p.ingress.some(
      (rule) =>
        rule.ports.some((x) => x.port === port) &&
        (rule.from === undefined ||
          rule.from.some((peer) => {
            const nsOk = peer.namespaceSelector
              ? matches(peer.namespaceSelector, { "kubernetes.io/metadata.name": from.namespace })
              : from.namespace === "kaito-system";
            const podOk = peer.podSelector ? matches(peer.podSelector, from.labels) : true;
            return nsOk && podOk;
          })),
    );
  const prometheus = { namespace: "monitoring", labels: { "app.kubernetes.io/name": "prometheus" } };
  const scheduler = {
    namespace: "kaito-system",
    labels: { "app.kubernetes.io/name": "kaito-ts", "app.kubernetes.io/component": "scheduler" },
  };
  const client = { namespace: "team-a", labels: { "kaito.sh/planner-client": "true" } };
  const stranger = { namespace: "team-a", labels: { app: "web" } };
  const apiServer = { namespace: "", labels: {} };

  it("select the manager's and the kaito-scheduler's pods, for ingress", () => {
    const manager = named("Deployment", "kaito-manager").spec as {
      template: { metadata: { labels: Record<string, string> } };
    };
    const sched = named("Deployment", "kaito-scheduler").spec as {
      template: { metadata: { labels: Record<string, string> } };
    };
    expect(matches(policy("kaito-manager").podSelector, manager.template.metadata.labels)).toBe(true);
    expect(matches(policy("kaito-scheduler").podSelector, sched.template.metadata.labels)).toBe(true);
    expect(matches(policy("kaito-manager").podSelector, sched.template.metadata.labels)).toBe(false);
    for (const name of ["kaito-manager", "kaito-scheduler"])
      expect(policy(name).policyTypes).toEqual(["Ingress"]);
  });

  it("admit only the scrapers to /metrics, the scheduler and labelled clients to the planner, anyone to the webhook", () => {
    const m = policy("kaito-manager");
    expect(admits(m, prometheus, 8080)).toBe(true);
    expect(admits(m, stranger, 8080)).toBe(false);
    expect(admits(m, scheduler, 8080)).toBe(false);
    expect(admits(m, scheduler, 9090)).toBe(true);
    expect(admits(m, client, 9090)).toBe(true);
    expect(admits(m, stranger, 9090)).toBe(false);
    expect(admits(m, prometheus, 9090)).toBe(false);
    // The API server has no pod a selector could name: the webhook port is open to all sources.
    expect(admits(m, apiServer, 9443)).toBe(true);
    expect(admits(m, stranger, 9443)).toBe(true);
    // Health (8081) is the kubelet's, which NetworkPolicy never blocks; no rule opens it to pods.
    expect(admits(m, stranger, 8081)).toBe(false);
    // Every port the Deployment names is decided here (health: by the node exception).
    const ports = deployment("kaito-manager").pod.containers[0]!.ports!.map((p) => p.containerPort);
    expect(ports.sort()).toEqual([8080, 8081, 9090, 9443]);

    const s = policy("kaito-scheduler");
    expect(admits(s, prometheus, 8080)).toBe(true);
    expect(admits(s, stranger, 8080)).toBe(false);
    // The extender listens on loopback only; nothing may reach 8888 from outside the pod.
    expect(admits(s, scheduler, 8888)).toBe(false);
    expect(s.ingress.flatMap((r) => r.ports.map((p) => p.port))).toEqual([8080]);
  });
});

describe("deploy/'s admission webhook", () => {
  it("registers the configurations the manager builds, pointing at the Service, with the CA left to the manager", () => {
    const o = {
      name: "kaito-ts-workspaces",
      endpoint: { service: { namespace: "kaito-system", name: "kaito-webhook", port: 443 } },
      labels: { "app.kubernetes.io/name": "kaito-ts" },
    };
    expect(named("MutatingWebhookConfiguration", "kaito-ts-workspaces")).toEqual(mutatingConfiguration(o));
    expect(named("ValidatingWebhookConfiguration", "kaito-ts-workspaces")).toEqual(
      validatingConfiguration(o),
    );
    const svc = named("Service", "kaito-webhook") as {
      metadata: { namespace: string };
      spec: { ports: { port: number; targetPort: string }[] };
    };
    expect(svc.metadata.namespace).toBe("kaito-system");
    expect(svc.spec.ports).toEqual([{ name: "webhook", port: 443, targetPort: "webhook" }]);
  });

  it("runs the webhook on every manager replica, on the port the Service targets", () => {
    const container = deployment("kaito-manager").pod.containers.find((c) => c.name === "manager")!;
    expect(flag(container.args, "components")?.split(",")).toContain("webhook");
    expect(flag(container.args, "webhook-bind-address")).toBe("0.0.0.0:9443");
    expect(container.ports).toContainEqual({ name: "webhook", containerPort: 9443 });
  });
});
