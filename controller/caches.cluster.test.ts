// The whole operator's caches against a real API server: what it does not own stays out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../lib/log.ts";
import { gpuPodScope, nodeScope } from "../kube/caches.ts";
import { KubeClient, type KubeObject } from "../kube/client.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { resources } from "../kube/resources.ts";
import type { Manager } from "../kube/runtime/manager.ts";
import { useTestCluster } from "../test/harness/index.ts";
import { until } from "../test/harness/until.ts";
import { buildOperator, componentNames } from "./operator.ts";
import { LocalCloudProvider } from "../provisioner/cloud/local/index.ts";
import { ownedScope } from "./workspace/index.ts";

const cluster = useTestCluster();
let client: KubeClient;
let manager: Manager;
let namespace: string;
const stop = new AbortController();
let running: Promise<void> | undefined;

beforeAll(async () => {
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  namespace = await cluster.newNamespace("caches");
  manager = buildOperator({
    client,
    components: new Set(componentNames),
    addresses: {
      metrics: "127.0.0.1:0",
      health: "127.0.0.1:0",
      planner: "127.0.0.1:0",
      extender: "127.0.0.1:0",
    },
    log: silentLogger,
    cloud: (m) => new LocalCloudProvider({ client: m.client, log: silentLogger }),
  });
  running = manager.start(stop.signal);
});

afterAll(async () => {
  stop.abort();
  await running;
  client?.close();
});

const deployment = (name: string, labels: Record<string, string>): KubeObject =>
  ({
    metadata: { name, namespace, labels },
    spec: {
      selector: { matchLabels: { app: name } },
      replicas: 0,
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    },
  }) as KubeObject;

const pod = (name: string, gpus: number): KubeObject =>
  ({
    metadata: { name, namespace },
    spec: {
      // No scheduler serves this name: the pods stay Pending and untouched.
      schedulerName: "nobody",
      containers: [
        {
          name: "c",
          image: "busybox",
          ...(gpus ? { resources: { limits: { "nvidia.com/gpu": String(gpus) } } } : {}),
        },
      ],
    },
  }) as KubeObject;

describe("the operator's caches", () => {
  it("never cache a resource the cluster holds in bulk without a scope, whichever component asks", () => {
    // Keys are group/version/plural|namespace|labels|fields|transform (Manager.informerScopes).
    const bulk = [
      "/v1/pods",
      "/v1/nodes",
      "apps/v1/deployments",
      "apps/v1/statefulsets",
      "batch/v1/jobs",
      "/v1/services",
    ];
    const scopes = manager.informerScopes().map((k) => k.split("|"));
    for (const resource of bulk) {
      const mine = scopes.filter(([r]) => r === resource);
      expect(mine.length, resource).toBeGreaterThan(0);
      // A label selector, a field selector or a transform: never the whole resource as it comes.
      for (const [, , labels, fields, transform] of mine)
        expect(labels || fields || transform, `${resource}: a cache of the whole cluster's`).not.toBe("");
    }
    // Pods and nodes: the one scope every component shares.
    expect(scopes.filter(([r]) => r === "/v1/pods")).toEqual([
      ["/v1/pods", "", "", gpuPodScope.fieldSelector, gpuPodScope.transform.name],
    ]);
    expect(scopes.filter(([r]) => r === "/v1/nodes")).toEqual([
      ["/v1/nodes", "", "", "", nodeScope.transform.name],
    ]);
  });

  it("hold the workloads it labels and the pods that ask for GPUs, in one cache the extender shares", async () => {
    // What must stay out is written first: a watch delivers in resourceVersion order, so once the
    // later objects are in the caches, the earlier ones would be too had they passed.
    await client.create(resources.deployments, deployment("users-own", { app: "users-own" }));
    await client.create(resources.pods, pod("cpu-only", 0));
    await client.create(
      resources.deployments,
      deployment("ours", { app: "ours", "kaito.sh/workspace": "ws" }),
    );
    await client.create(resources.pods, pod("wants-gpu", 1));
    const deployments = manager.informer(resources.deployments, ownedScope);
    const pods = manager.informer(resources.pods, gpuPodScope);
    await until("the labelled Deployment and the GPU pod in the caches", async () =>
      deployments.get(`${namespace}/ours`) && pods.get(`${namespace}/wants-gpu`) ? true : undefined,
    );
    expect(deployments.get(`${namespace}/users-own`)).toBeUndefined();
    expect(pods.get(`${namespace}/cpu-only`)).toBeUndefined();
    expect(pods.get(`${namespace}/wants-gpu`)?.metadata).not.toHaveProperty("managedFields");
    // The extender, the controller and the provisioner ask for the same scope: one informer each.
    expect(manager.informer(resources.pods, { ...gpuPodScope, everyReplica: true })).toBe(pods);
    expect(manager.informer(resources.nodes, { ...nodeScope, everyReplica: true })).toBe(
      manager.informer(resources.nodes, nodeScope),
    );
  });
});
