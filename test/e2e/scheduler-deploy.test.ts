// deploy/scheduler as a cluster would run it: kube-scheduler from the generated ConfigMap's
// configuration and the extender from the sidecar's own arguments, both under the kaito-scheduler
// ServiceAccount's token with the RBAC deploy/ ships, and an operator that sends its workspace pods
// there with --scheduler-name. A KAITO example must then be scheduled and bound by that pair and
// nothing else. The suites share one cluster, so the profile gets a name of its own, substituted
// for kaito-scheduler everywhere.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import type { V1Pod } from "@kubernetes/client-node";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSuffix, useTestCluster } from "../harness/index.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { isKubeApiError } from "../../kube/errors.ts";
import { collectionPath, resources } from "../../kube/resources.ts";
import { freePort } from "../../localcluster/ports.ts";
import { startScheduler, type RunningScheduler } from "../../localcluster/scheduler.ts";
import { controllerCommand } from "../../cli/commands/controller.ts";
import type { CommandIO } from "../../cli/command.ts";
import type { Workspace } from "../../crds/index.ts";
import { applyAll, readManifests, resourceOf, serviceAccountKubeconfig } from "./rbac-manifests.ts";
import { httpsGet } from "../harness/https-get.ts";
import { until } from "../harness/until.ts";
import { deleteWorkspaces } from "./workspaces.ts";

const cluster = useTestCluster();
const repo = path.resolve(import.meta.dirname, "../..");
const examplesDir = path.resolve(repo, "../shared/examples");
const schedulerName = `kaito-scheduler-${randomSuffix()}`;
type Ws = Workspace & KubeObject;

interface Container {
  name: string;
  args: string[];
}
interface SchedulerConfiguration {
  profiles: { schedulerName: string }[];
  extenders: { urlPrefix: string }[];
  [field: string]: unknown;
}

const readYaml = (file: string): unknown => parse(readFileSync(path.join(repo, file), "utf8"));

/** The file deploy/scheduler's configMapGenerator turns into the kaito-scheduler's ConfigMap. */
function deployedSchedulerConfig(): SchedulerConfiguration {
  const k = readYaml("deploy/scheduler/kustomization.yaml") as { configMapGenerator: { files: string[] }[] };
  return readYaml(`deploy/scheduler/${k.configMapGenerator[0]!.files[0]!}`) as SchedulerConfiguration;
}

const schedulerDeployment = readYaml("deploy/scheduler/deployment.yaml") as {
  spec: { template: { spec: { initContainers: Container[] } } };
};

/** A command run in-process, as its container would run it, until stop(). */
interface Running {
  log: () => string;
  stop(): Promise<void>;
}
function runController(args: string[]): Running {
  const abort = new AbortController();
  const stderr = new PassThrough();
  let log = "";
  stderr.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
  const io: CommandIO = { stdout: new PassThrough(), stderr, env: {}, cwd: repo, signal: abort.signal };
  let failure: unknown;
  const done = controllerCommand.run(args, io).catch((e: unknown) => {
    failure = e;
  });
  return {
    log: () => (failure ? `${String(failure)}\n${log}` : log),
    async stop() {
      abort.abort();
      await done;
    },
  };
}

/** kaito_extender_requests_total for successful binds, from the sidecar's /metrics. */
async function binds(metricsPort: number): Promise<number> {
  // The sidecar checks who reads its /metrics (--endpoint-auth=kubernetes, as deployed): the
  // admin's token passes the SubjectAccessReview; the port speaks TLS with a certificate of its own.
  const token = cluster.kubeConfig.getCurrentUser()?.token;
  const res = await httpsGet(`https://127.0.0.1:${metricsPort}/metrics`, {
    authorization: `Bearer ${token}`,
  });
  if (res.status !== 200) throw new Error(`the extender's /metrics answered ${res.status}: ${res.body}`);
  const text = res.body;
  const line = text
    .split("\n")
    .find((l) => l.startsWith('kaito_extender_requests_total{verb="bind",code="200"}'));
  return line ? Number(line.split(" ").pop()) : 0;
}

const schedulerRbac = readManifests([
  "deploy/manager/namespace.yaml",
  "deploy/scheduler/serviceaccount.yaml",
  "deploy/scheduler/rbac.yaml",
]);
let admin: KubeClient;
let dir: string | undefined;
let extender: Running | undefined;
let scheduler: RunningScheduler | undefined;
let operator: Running | undefined;
let namespace: string | undefined;
const ports = { extender: 0, metrics: 0, health: 0 };

beforeAll(async () => {
  admin = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await applyAll(admin, schedulerRbac);
  dir = mkdtempSync(path.join(tmpdir(), "kaito-scheduler-deploy-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    await serviceAccountKubeconfig(admin, cluster.kubeconfigPath, {
      namespace: "kaito-system",
      name: "kaito-scheduler",
    }),
    { mode: 0o600 },
  );
  const asScheduler = new KubeClient(loadKubeConfig({ kubeconfig }));
  // RBAC objects reach the authorizer's cache asynchronously.
  await until("the kaito-scheduler's rights to take effect", () =>
    asScheduler.list(resources.nodes).then(() => true),
  );
  asScheduler.close();

  // The sidecar's arguments from the Deployment, its listeners moved to free loopback ports.
  [ports.extender, ports.metrics, ports.health] = [await freePort(), await freePort(), await freePort()];
  const [sidecar] = schedulerDeployment.spec.template.spec.initContainers;
  const moved: Record<string, number> = {
    "--extender-bind-address": ports.extender,
    "--metrics-bind-address": ports.metrics,
    "--health-probe-bind-address": ports.health,
  };
  const args = sidecar!.args.map((a) => {
    const [name] = a.split("=");
    return name! in moved ? `${name}=127.0.0.1:${moved[name!]}` : a;
  });
  extender = runController([...args, `--kubeconfig=${kubeconfig}`]);
  const e = extender;
  // The pod's startup and readiness probes read the health port: 200 once the extender's node and
  // pod watches have listed (the extender's own port says the same).
  await until(
    () => `the extender to be ready:\n${e.log()}`,
    async () => ((await fetch(`http://127.0.0.1:${ports.health}/readyz`)).ok ? true : undefined),
  );
  expect((await fetch(`http://127.0.0.1:${ports.extender}/readyz`)).status).toBe(200);

  const deployed = deployedSchedulerConfig();
  scheduler = await startScheduler({
    kubeconfigPath: kubeconfig,
    config: {
      ...deployed,
      extenders: deployed.extenders.map((x) => ({ ...x, urlPrefix: `http://127.0.0.1:${ports.extender}` })),
      profiles: deployed.profiles.map((p) => ({ ...p, schedulerName })),
    },
  });

  operator = runController([
    `--kubeconfig=${cluster.kubeconfigPath}`,
    "--cloud=local",
    "--boot-delay=0.5",
    "--components=workspace,provisioner,planner",
    `--scheduler-name=${schedulerName}`,
    "--metrics-bind-address=127.0.0.1:0",
    "--health-probe-bind-address=127.0.0.1:0",
    "--planner-bind-address=127.0.0.1:0",
    "--log-level=warn",
  ]);
});

afterAll(async () => {
  // The operator must see its workspace's deletion through, or its finalizer holds the namespace.
  if (namespace && operator) {
    await deleteWorkspaces(admin, namespace).catch((e: unknown) => process.stderr.write(`${String(e)}\n`));
  }
  await operator?.stop();
  await scheduler?.stop();
  await extender?.stop();
  // Cluster-scoped RBAC would outlive the run's namespaces (and stand in the way of the chart's).
  for (const obj of schedulerRbac.reverse()) {
    if (obj.kind === "Namespace") continue;
    await admin?.delete(resourceOf(obj), obj.metadata!.name!, obj.metadata?.namespace).catch(() => undefined);
  }
  admin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("deploy/scheduler on the local cluster", () => {
  it("is a Deployment the API server accepts as written", async () => {
    const manifest = readYaml("deploy/scheduler/deployment.yaml") as KubeObject;
    const accepted = await admin
      .request<
        KubeObject & { spec: { template: { spec: { initContainers: { restartPolicy?: string }[] } } } }
      >("POST", collectionPath(resources.deployments, "kaito-system"), {
        body: manifest,
        query: { dryRun: "All", fieldValidation: "Strict" },
      })
      .catch((e: unknown) => {
        throw isKubeApiError(e) ? new Error(`refused: ${e.message}`) : e;
      });
    // A field the API server did not know would have been dropped, and the sidecar made a plain init container.
    expect(accepted.spec.template.spec.initContainers[0]!.restartPolicy).toBe("Always");
  });

  it("schedules and binds a KAITO example's pod through the kaito-scheduler and its extender", async () => {
    namespace = await cluster.newNamespace("scheduler-deploy");
    const ns = namespace;
    const manifest = parse(readFileSync(path.join(examplesDir, "kaito_workspace_phi_3.yaml"), "utf8")) as Ws;
    manifest.metadata = { ...manifest.metadata, namespace: ns };
    const name = manifest.metadata.name!;
    const bindsBefore = await binds(ports.metrics);
    await admin.create(resources.workspaces, manifest);

    let seen: Ws | undefined;
    await until(
      () =>
        `${name} to be ready (status ${JSON.stringify(seen?.status?.conditions)})\n` +
        `kube-scheduler:\n${scheduler?.logTail(20)}\noperator:\n${operator?.log()}`,
      async () => {
        seen = await admin.get<Ws>(resources.workspaces, name, ns);
        const ready = seen.status?.conditions?.find((c) => c.type === "WorkspaceReady");
        return ready?.status === "True" ? true : undefined;
      },
      90_000,
    );

    const pods = (
      await admin.list<V1Pod & KubeObject>(resources.pods, {
        namespace: ns,
        labelSelector: `kaito.sh/workspace=${name}`,
      })
    ).items;
    expect(pods.length).toBeGreaterThanOrEqual(1);
    for (const pod of pods) {
      expect(pod.spec?.schedulerName).toBe(schedulerName);
      expect(pod.spec?.nodeName).toBeTruthy();
      // kube-scheduler reports under its profile's name, whoever wrote the binding.
      const events = await admin.list<KubeObject & { reason?: string; reportingComponent?: string }>(
        resources.events,
        { namespace: ns, fieldSelector: `involvedObject.name=${pod.metadata!.name},reason=Scheduled` },
      );
      expect(events.items.map((e) => e.reportingComponent)).toEqual([schedulerName]);
    }
    // The extender wrote the bindings (bindVerb), so its count of assumed GPUs was right.
    expect((await binds(ports.metrics)) - bindsBefore).toBeGreaterThanOrEqual(pods.length);
    // deploy/'s RBAC was enough: neither refused a call (a refused informer only logs and retries).
    expect(readFileSync(scheduler!.logFile, "utf8")).not.toMatch(/forbidden/i);
    expect(extender!.log()).not.toMatch(/forbidden/i);
  });
});
