import type { V1EndpointSlice, V1Node, V1Pod, V1Service, V1StatefulSet } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import type { Machine, Workspace } from "../../crds/index.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { until } from "../harness/until.ts";

const cluster = useTestCluster();
let operator: RunningOperator;
beforeAll(async () => {
  operator = await startOperator(cluster.kubeconfigPath);
});
afterAll(async () => {
  await operator?.stop();
});

type Ws = Workspace & KubeObject;

const machinesIn = async (namespace: string) =>
  (await operator.client.list<Machine & KubeObject>(resources.machines)).items.filter(
    (m) => m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace,
  );

/** Ready pods behind the Service (on `port`, when given), per the EndpointSlices the cluster keeps. */
async function endpointPods(namespace: string, service: string, port?: string): Promise<string[]> {
  const slices = await operator.client.list<V1EndpointSlice & KubeObject>(resources.endpointSlices, {
    namespace,
    labelSelector: `kubernetes.io/service-name=${service}`,
  });
  return slices.items
    .filter((s) => port === undefined || s.ports?.some((p) => p.name === port))
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready)
    .map((e) => e.targetRef?.name ?? "")
    .sort();
}

describe("a replica spanning two nodes on the local cluster", () => {
  it("runs a leader and a worker on the two Machines' nodes, serving port 80 from the leader only", async () => {
    const client = operator.client;
    const namespace = await cluster.newNamespace("multinode");
    const ws: Ws = {
      apiVersion: "kaito.sh/v1alpha1",
      kind: "Workspace",
      metadata: { name: "llama", namespace },
      resource: {
        instanceType: "Standard_NC24ads_A100_v4",
        count: 2,
        labelSelector: { matchLabels: { apps: "llama" } },
      },
      inference: { preset: { name: "llama-3.3-70b-instruct" } },
    };
    await client.create(resources.workspaces, ws);

    let last: Ws | undefined;
    const ready = await until(
      () =>
        `WorkspaceReady: ${JSON.stringify(last?.status?.conditions?.map((c) => [c.type, c.status, c.message]))}`,
      async () => {
        last = await client.get<Ws>(resources.workspaces, "llama", namespace);
        const done = last.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True");
        return done ? last : undefined;
      },
      90_000,
    );
    expect(ready.status?.placement).toMatchObject({ replicas: 1, nodesPerReplica: 2, newNodes: 2 });

    const machines = await machinesIn(namespace);
    const machineNodes = machines.map((m) => m.status?.nodeName).sort();
    expect(machineNodes).toHaveLength(2);
    expect(new Set(machineNodes).size).toBe(2);

    const sts = async (name: string) =>
      client.get<V1StatefulSet & KubeObject>(resources.statefulSets, name, namespace);
    const [leaders, workers] = [await sts("llama-leader"), await sts("llama-worker")];
    expect([leaders.status?.readyReplicas, workers.status?.readyReplicas]).toEqual([1, 1]);
    const pods = (
      await client.list<V1Pod & KubeObject>(resources.pods, {
        namespace,
        labelSelector: "kaito.sh/workspace=llama",
      })
    ).items;
    expect(pods.map((p) => p.metadata!.name).sort()).toEqual(["llama-leader-0", "llama-worker-0"]);
    expect(
      pods.every((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")),
    ).toBe(true);
    expect(pods.map((p) => p.spec?.nodeName).sort()).toEqual(machineNodes);

    const svc = await client.get<V1Service & KubeObject>(resources.services, "llama", namespace);
    expect(svc.spec?.ports?.map((p) => p.port)).toEqual([80, 29500]);
    // kwok marks both pods ready, so only the Service's selector keeps the worker out.
    const httpPods = await until(
      () => "the Service's port-80 endpoints",
      async () => {
        const names = await endpointPods(namespace, "llama", "http");
        return names.length > 0 ? names : undefined;
      },
    );
    expect(httpPods).toEqual(["llama-leader-0"]);
    // Not on any port either: the selector leaves the worker out of the Service altogether.
    expect(await endpointPods(namespace, "llama")).toEqual(["llama-leader-0"]);
    const headless = await client.get<V1Service & KubeObject>(
      resources.services,
      "llama-headless",
      namespace,
    );
    expect(headless.spec?.clusterIP).toBe("None");
    const everyPod = await until(
      () => "the headless Service's endpoints",
      async () => {
        const names = await endpointPods(namespace, "llama-headless", "rendezvous");
        return names.length === 2 ? names : undefined;
      },
    );
    expect(everyPod).toEqual(["llama-leader-0", "llama-worker-0"]);

    await client.delete(resources.workspaces, "llama", namespace);
    await until(
      () => `no workspace, Machine or node left in ${namespace}`,
      async () => {
        const left = (await client.list<Ws>(resources.workspaces, { namespace })).items.length;
        const machinesLeft = (await machinesIn(namespace)).length;
        const nodesLeft = (await client.list<V1Node & KubeObject>(resources.nodes)).items.filter((n) =>
          machineNodes.includes(n.metadata!.name!),
        ).length;
        return left + machinesLeft + nodesLeft === 0 ? true : undefined;
      },
    );
  });
});
