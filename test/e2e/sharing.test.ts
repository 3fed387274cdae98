// Nodes shared between workspaces beyond one batch, and handed over when their owner goes: a
// workspace applied later with the same labels (an InferenceSet's extra replica) runs on the free
// GPUs of another's node and adds none; deleting the node's owner relabels its Machine to the
// workspace that still runs there, whose pod and node stay as they are; deleting that last user
// removes the node.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceLabel, workspaceNamespaceLabel, type Machine, type Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { deleteWorkspaces } from "./workspaces.ts";

const cluster = useTestCluster();
let operator: RunningOperator;
let namespace: string;
beforeAll(async () => {
  operator = await startOperator(cluster.kubeconfigPath, { bootDelayMs: 200 });
  namespace = await cluster.newNamespace("share");
});
afterAll(async () => {
  if (operator && namespace) await deleteWorkspaces(operator.client, namespace);
  await operator?.stop();
});

type Ws = Workspace & KubeObject;
type M = Machine & KubeObject;
const labels = { apps: "shared-phi" };

function workspace(name: string, instanceType?: string): Ws {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace },
    resource: { count: 1, labelSelector: { matchLabels: labels }, ...(instanceType ? { instanceType } : {}) },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

const get = (name: string) => operator.client.get<Ws>(resources.workspaces, name, namespace);
const isReady = (w: Ws) =>
  w.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True") ?? false;
const machinesOf = async (name: string) =>
  (await operator.client.list<M>(resources.machines)).items.filter(
    (m) =>
      m.metadata?.labels?.[workspaceLabel] === name &&
      m.metadata?.labels?.[workspaceNamespaceLabel] === namespace,
  );
const podsOf = async (name: string) =>
  (
    await operator.client.list<V1Pod & KubeObject>(resources.pods, {
      namespace,
      labelSelector: `${workspaceLabel}=${name}`,
    })
  ).items.filter((p) => !p.metadata?.deletionTimestamp);

describe("a node shared beyond its batch", () => {
  it("takes a later workspace's replica, and outlives its owner for the workspace still on it", async () => {
    // The owner names a size with two GPUs and runs one pod of one GPU: one GPU is left.
    await operator.client.create(resources.workspaces, workspace("owner", "Standard_NV72ads_A10_v5"));
    await until("the owner to be ready", async () =>
      (await isReady(await get("owner"))) ? true : undefined,
    );
    const [machine] = await machinesOf("owner");
    expect(machine).toBeDefined();
    const node = machine!.status!.nodeName!;

    // Applied later with the same labels: planned on the owner's free GPU, no node of its own.
    await operator.client.create(resources.workspaces, workspace("later"));
    const later = await until("the later workspace to be ready", async () => {
      const w = await get("later");
      return isReady(w) ? w : undefined;
    });
    expect(later.status?.placement).toMatchObject({
      newNodes: 0,
      existingNodes: [],
      sharedNodes: [{ name: machine!.metadata!.name, launchedBy: `${namespace}/owner` }],
    });
    expect(later.status?.workerNodes).toEqual([node]);
    expect(await machinesOf("later")).toEqual([]);
    const [pod] = await podsOf("later");
    expect(pod?.spec?.nodeName).toBe(node);
    const nodesBefore = (await operator.client.list<V1Node & KubeObject>(resources.nodes)).items.length;

    // The owner goes: its Machine is relabelled to the workspace still on it, not deleted.
    await operator.client.delete(resources.workspaces, "owner", namespace);
    await until("the owner to be gone", async () =>
      (await get("owner").catch(() => undefined)) ? undefined : true,
    );
    const adopted = await operator.client.get<M>(resources.machines, machine!.metadata!.name!);
    expect(adopted.metadata?.uid).toBe(machine!.metadata!.uid);
    expect(adopted.metadata?.labels).toMatchObject({
      [workspaceLabel]: "later",
      [workspaceNamespaceLabel]: namespace,
    });
    expect(adopted.metadata?.deletionTimestamp).toBeUndefined();
    await operator.client.get<V1Node & KubeObject>(resources.nodes, node);
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
    expect((await operator.client.list<V1Node & KubeObject>(resources.nodes)).items.length).toBe(nodesBefore);

    // Its last user gone, the node goes.
    await operator.client.delete(resources.workspaces, "later", namespace);
    await until("the shared Machine and its node to be deleted", async () => {
      const m = await operator.client
        .get<M>(resources.machines, machine!.metadata!.name!)
        .catch(() => undefined);
      const n = await operator.client.get<V1Node & KubeObject>(resources.nodes, node).catch(() => undefined);
      return m || n ? undefined : true;
    });
  });
});
