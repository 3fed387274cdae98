// `--node-provisioner byo`: workspaces run on GPU nodes the user brought (kwok plays them), no
// Machine or NodeClaim is written, and one that does not fit says why until a fitting node comes.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster, randomSuffix } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import type { Machine, NodeClaim, Workspace } from "../../crds/index.ts";
import { mustFindSku } from "../../planner/catalog/index.ts";
import { gpuLabels, skuCapacity } from "../../provisioner/cloud/local/node.ts";
import { kwokNodeAnnotation } from "../../localcluster/components.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { deleteWorkspaces } from "./workspaces.ts";

const cluster = useTestCluster();
let operator: RunningOperator;
const madeNodes: string[] = [];
beforeAll(async () => {
  operator = await startOperator(cluster.kubeconfigPath, { nodeProvisioner: { mode: "byo" } });
});
afterAll(async () => {
  await Promise.all(madeNodes.map((n) => operator?.client.delete(resources.nodes, n).catch(() => undefined)));
  await operator?.stop();
});

type Ws = Workspace & KubeObject;
const suffix = randomSuffix();
const v100 = mustFindSku("Standard_NC6s_v3");

const asStrings = (r: Record<string, string | number>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(v)]));

/** A GPU node as the user's cluster has it: labelled by the user, its GPUs advertised, kwok its kubelet. */
async function userNode(name: string, labels: Record<string, string>): Promise<string> {
  const full = `byo-${suffix}-${name}`;
  await operator.client.create<V1Node & KubeObject>(resources.nodes, {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: full,
      labels: {
        ...labels,
        "kubernetes.io/hostname": full,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": v100.name,
        ...gpuLabels(v100),
      },
      annotations: { [kwokNodeAnnotation]: "fake" },
    },
    status: { capacity: asStrings(skuCapacity(v100)), allocatable: asStrings(skuCapacity(v100)) },
  });
  madeNodes.push(full);
  return full;
}

function workspace(name: string, namespace: string, count = 1): Ws {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace },
    resource: { count, labelSelector: { matchLabels: { apps: `${name}-${suffix}` } } },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

const condition = (ws: Ws, type: string) => ws.status?.conditions?.find((c) => c.type === type);

describe("the byo node provisioner", () => {
  it("places workspaces on the user's labelled GPU nodes, reports what does not fit, and runs it once a node is added", async () => {
    const client = operator.client;
    const namespace = await cluster.newNamespace("byo");
    const fitNode = await userNode("fit", { apps: `fits-${suffix}` });
    const firstMore = await userNode("more-1", { apps: `more-${suffix}` });
    await client.create(resources.workspaces, workspace("fits", namespace));
    await client.create(resources.workspaces, workspace("more", namespace, 2));

    const fits = await until("the workspace that fits to be ready", async () => {
      const w = await client.get<Ws>(resources.workspaces, "fits", namespace);
      return condition(w, "WorkspaceReady")?.status === "True" ? w : undefined;
    });
    expect(fits.status?.placement).toMatchObject({ newNodes: 0, existingNodes: [fitNode] });
    const pods = (
      await client.list<V1Pod & KubeObject>(resources.pods, {
        namespace,
        labelSelector: "kaito.sh/workspace=fits",
      })
    ).items;
    expect(pods.map((p) => p.spec?.nodeName)).toEqual([fitNode]);

    // Two replicas, one node: ResourceReady says so, with the GPUs missing.
    const waiting = await until("the workspace that does not fit to say why", async () => {
      const w = await client.get<Ws>(resources.workspaces, "more", namespace);
      return condition(w, "ResourceReady")?.reason === "NotEnoughNodes" ? w : undefined;
    });
    expect(condition(waiting, "ResourceReady")?.status).toBe("False");
    expect(condition(waiting, "ResourceReady")?.message).toMatch(
      /1 replica\(s\) of 1 GPU\(s\) do not fit: 1 GPU\(s\) missing/,
    );

    // A second fitting node: the Node watch wakes the workspace, no timer.
    const secondMore = await userNode("more-2", { apps: `more-${suffix}` });
    let last: Ws | undefined;
    const more = await until(
      () => `the workspace to run once a second node is there (status ${JSON.stringify(last?.status)})`,
      async () => {
        const w = (last = await client.get<Ws>(resources.workspaces, "more", namespace));
        return condition(w, "WorkspaceReady")?.status === "True" ? w : undefined;
      },
    );
    expect([...(more.status?.placement?.existingNodes ?? [])].sort()).toEqual([firstMore, secondMore].sort());

    const mine = (o: KubeObject) => o.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace;
    expect((await client.list<Machine & KubeObject>(resources.machines)).items.filter(mine)).toEqual([]);
    const claims = await client
      .list<NodeClaim & KubeObject>(resources.nodeClaims)
      .catch(() => ({ items: [] }));
    expect(claims.items.filter(mine)).toEqual([]);

    // Deleting the workspaces leaves the user's nodes alone.
    await deleteWorkspaces(client, namespace);
    const nodes = new Set(
      (await client.list<V1Node & KubeObject>(resources.nodes)).items.map((n) => n.metadata!.name),
    );
    for (const n of [fitNode, firstMore, secondMore]) expect(nodes.has(n)).toBe(true);
  }, 180_000);
});
