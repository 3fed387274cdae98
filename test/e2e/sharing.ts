// The shared-node scenario, for each kind of node object: a workspace applied later with the same
// labels (an InferenceSet's extra replica) runs on the free GPU of another's node and adds none;
// deleting the node's owner relabels its Machine or NodeClaim to the workspace that still runs
// there, whose pod and node stay as they are; deleting that last user removes the node.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { expect } from "vitest";
import { workspaceLabel, workspaceNamespaceLabel, type Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { resources, type Resource } from "../../kube/resources.ts";
import { until } from "../harness/until.ts";

type Ws = Workspace & KubeObject;
type NodeObject = KubeObject & { status?: { nodeName?: string } };

export async function sharedNodeScenario(
  client: KubeClient,
  namespace: string,
  /** The node objects' resource: Machines (builtin) or NodeClaims. */
  objects: Resource,
): Promise<void> {
  const labels = { apps: `shared-phi-${namespace}` };
  const workspace = (name: string, instanceType?: string): Ws => ({
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace },
    resource: {
      count: 1,
      labelSelector: { matchLabels: labels },
      ...(instanceType ? { instanceType } : {}),
    },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  });
  const get = (name: string) => client.get<Ws>(resources.workspaces, name, namespace);
  const isReady = (w: Ws) =>
    w.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True") ?? false;
  const objectsOf = async (name: string) =>
    (await client.list<NodeObject>(objects)).items.filter(
      (m) =>
        m.metadata?.labels?.[workspaceLabel] === name &&
        m.metadata?.labels?.[workspaceNamespaceLabel] === namespace,
    );
  const podsOf = async (name: string) =>
    (
      await client.list<V1Pod & KubeObject>(resources.pods, {
        namespace,
        labelSelector: `${workspaceLabel}=${name}`,
      })
    ).items.filter((p) => !p.metadata?.deletionTimestamp);
  const nodeCount = async () => (await client.list<V1Node & KubeObject>(resources.nodes)).items.length;

  // The owner names a size with two GPUs and runs one pod of one GPU: one GPU is left.
  await client.create(resources.workspaces, workspace("owner", "Standard_NV72ads_A10_v5"));
  await until("the owner to be ready", async () => (isReady(await get("owner")) ? true : undefined), 120_000);
  const [object] = await objectsOf("owner");
  expect(object).toBeDefined();
  const name = object!.metadata!.name!;
  const node = object!.status!.nodeName!;

  // Applied later with the same labels: planned on the owner's free GPU, no node of its own.
  await client.create(resources.workspaces, workspace("later"));
  const later = await until("the later workspace to be ready", async () => {
    const w = await get("later");
    return isReady(w) ? w : undefined;
  });
  expect(later.status?.placement).toMatchObject({
    newNodes: 0,
    existingNodes: [],
    sharedNodes: [{ name, launchedBy: `${namespace}/owner` }],
  });
  expect(later.status?.workerNodes).toEqual([node]);
  expect(await objectsOf("later")).toEqual([]);
  const [pod] = await podsOf("later");
  expect(pod?.spec?.nodeName).toBe(node);
  const nodesBefore = await nodeCount();

  // The owner goes: its node object is relabelled to the workspace still on it, not deleted.
  await client.delete(resources.workspaces, "owner", namespace);
  await until("the owner to be gone", async () =>
    (await get("owner").catch(() => undefined)) ? undefined : true,
  );
  const adopted = await client.get<NodeObject>(objects, name);
  expect(adopted.metadata?.uid).toBe(object!.metadata!.uid);
  expect(adopted.metadata?.labels).toMatchObject({
    [workspaceLabel]: "later",
    [workspaceNamespaceLabel]: namespace,
  });
  expect(adopted.metadata?.deletionTimestamp).toBeUndefined();
  await client.get<V1Node & KubeObject>(resources.nodes, node);
  // The later workspace's pod is the same pod on the same node, and it stays ready.
  const after = await podsOf("later");
  expect(
    after.map((p) => [
      p.metadata?.uid,
      p.spec?.nodeName,
      p.status?.containerStatuses?.[0]?.restartCount ?? 0,
    ]),
  ).toEqual([[pod!.metadata!.uid, node, 0]]);
  const still = await get("later");
  expect(isReady(still)).toBe(true);
  expect(still.status?.workerNodes).toEqual([node]);
  expect(await nodeCount()).toBe(nodesBefore);

  // Its last user gone, the node goes.
  await client.delete(resources.workspaces, "later", namespace);
  await until("the shared node object and its node to be deleted", async () => {
    const m = await client.get<NodeObject>(objects, name).catch(() => undefined);
    const n = await client.get<V1Node & KubeObject>(resources.nodes, node).catch(() => undefined);
    return m || n ? undefined : true;
  });
}
