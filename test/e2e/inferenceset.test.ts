// InferenceSets on the local cluster: KAITO's example reaches readyReplicas 2, `kubectl scale`
// (the scale subresource) adds and removes replicas, and deleting the set leaves nothing; a set
// whose nodes have room gets its new replica there, and scaling down frees the node it paid for.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { V1Node } from "@kubernetes/client-node";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSuffix, useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import type { InferenceSet, Machine, Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { collectionPath, resources } from "../../kube/resources.ts";
import { startOperator, type RunningOperator } from "./operator.ts";

const cluster = useTestCluster();
let operator: RunningOperator;
beforeAll(async () => {
  operator = await startOperator(cluster.kubeconfigPath);
});
afterAll(async () => {
  await operator?.stop();
});

type Set = InferenceSet & KubeObject;
type Ws = Workspace & KubeObject;

const example = path.resolve(
  import.meta.dirname,
  "../../../shared/examples/v1beta1/inferenceset-mistral.yaml",
);

/** What `kubectl scale inferenceset NAME --replicas N` sends: a patch of the scale subresource. */
async function scale(name: string, namespace: string, replicas: number): Promise<void> {
  await operator.client.request(
    "PATCH",
    `${collectionPath(resources.inferenceSets, namespace)}/${name}/scale`,
    { body: { spec: { replicas } }, contentType: "application/merge-patch+json" },
  );
}

async function replicas(namespace: string, set: string): Promise<Ws[]> {
  const list = await operator.client.list<Ws>(resources.workspaces, {
    namespace,
    labelSelector: `inferenceset.kaito.sh/created-by=${set}`,
  });
  return list.items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
}

/** Waits until the set reports `ready` of `count` replicas and exactly `count` Workspaces exist. */
async function settled(
  namespace: string,
  name: string,
  count: number,
): Promise<{ set: Set; workspaces: Ws[] }> {
  let last: Set | undefined;
  let lastWs: Ws[] = [];
  return until(
    () =>
      `${name} to have ${count} ready replicas (status: ${JSON.stringify(last?.status)}; replicas: ${JSON.stringify(
        lastWs.map((w) => [
          w.metadata?.name,
          w.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}: ${c.message}`),
        ]),
      )})`,
    async () => {
      last = await operator.client.get<Set>(resources.inferenceSets, name, namespace);
      const ws = await replicas(namespace, name);
      lastWs = ws;
      const ready = last.status?.conditions?.find((c) => c.type === "InferenceSetReady")?.status === "True";
      return last.status?.readyReplicas === count &&
        last.status.replicas === count &&
        ws.length === count &&
        ready
        ? { set: last, workspaces: ws }
        : undefined;
    },
  );
}

const machinesIn = async (namespace: string) =>
  (await operator.client.list<Machine & KubeObject>(resources.machines)).items.filter(
    (m) => m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace,
  );

async function expectNothingLeft(namespace: string, nodes: readonly string[]): Promise<void> {
  await until(
    () => `no Workspace, Machine or node of ${namespace} left`,
    async () => {
      const ws = await operator.client.list<Ws>(resources.workspaces, { namespace });
      const machines = await machinesIn(namespace);
      const left = (await operator.client.list<V1Node & KubeObject>(resources.nodes)).items.filter((n) =>
        nodes.includes(n.metadata!.name!),
      );
      return ws.items.length + machines.length + left.length === 0 ? true : undefined;
    },
  );
}

describe("InferenceSets on the local cluster", () => {
  it("runs KAITO's example at 2 replicas, scales to 3 and back to 1, and leaves nothing when deleted", async () => {
    const namespace = await cluster.newNamespace("iset");
    const manifest = parse(readFileSync(example, "utf8")) as Set;
    manifest.metadata = { ...manifest.metadata, namespace };
    const name = manifest.metadata.name!;
    await operator.client.create(resources.inferenceSets, manifest);

    const two = await settled(namespace, name, 2);
    expect(two.set.status?.selector).toBe(`inferenceset.kaito.sh/created-by=${name}`);
    expect(two.workspaces.map((w) => w.metadata!.name)).toEqual([`${name}-0`, `${name}-1`]);
    for (const w of two.workspaces) {
      expect(w.resource.labelSelector).toEqual(manifest.spec.labelSelector);
      expect(w.metadata?.ownerReferences?.[0]).toMatchObject({
        kind: "InferenceSet",
        name,
        blockOwnerDeletion: true,
      });
      expect(w.status?.instanceType).toBe("Standard_NC24ads_A100_v4");
    }

    await scale(name, namespace, 3);
    const three = await settled(namespace, name, 3);
    const nodesOf = (ws: Ws[]) => ws.flatMap((w) => w.status?.workerNodes ?? []);
    // One A100 per node: the siblings' nodes have no room, so the third replica gets its own.
    expect(new Set(nodesOf(three.workspaces)).size).toBe(3);
    expect(three.set.status?.nodeCount).toBe(3);
    const allNodes = nodesOf(three.workspaces);

    await scale(name, namespace, 1);
    const one = await settled(namespace, name, 1);
    // Every replica was alone on a node of the same price: the newest went first.
    expect(one.workspaces.map((w) => w.metadata!.name)).toEqual([`${name}-0`]);
    await until("the removed replicas' Machines to be gone", async () =>
      (await machinesIn(namespace)).length === 1 ? true : undefined,
    );

    await operator.client.delete(resources.inferenceSets, name, namespace);
    await expectNothingLeft(namespace, allNodes);
  });

  it("puts a new replica where its siblings' nodes have room, and removes first the one that frees a node", async () => {
    const namespace = await cluster.newNamespace("iset-room");
    const apps = `phi-room-${randomSuffix()}`;
    // A node of the user's (bring-your-own) with two A100s, labelled for the set.
    const byo = `byo-${randomSuffix()}`;
    await operator.client.create<V1Node & KubeObject>(resources.nodes, {
      apiVersion: "v1",
      kind: "Node",
      metadata: {
        name: byo,
        labels: {
          apps,
          "kubernetes.io/hostname": byo,
          "node.kubernetes.io/instance-type": "Standard_NC48ads_A100_v4",
          "kubernetes.io/os": "linux",
        },
        annotations: { "kwok.x-k8s.io/node": "fake" },
      },
      status: { capacity: { cpu: "48", memory: "440Gi", pods: "110", "nvidia.com/gpu": "2" } },
    });
    try {
      const set: Set = {
        apiVersion: "kaito.sh/v1beta1",
        kind: "InferenceSet",
        metadata: { name: "phi", namespace },
        spec: {
          replicas: 1,
          labelSelector: { matchLabels: { apps } },
          template: { inference: { preset: { name: "phi-3-mini-4k-instruct" } } },
        },
      };
      await operator.client.create(resources.inferenceSets, set);
      const first = await settled(namespace, "phi", 1);
      expect(first.workspaces[0]!.status?.workerNodes).toEqual([byo]);

      await scale("phi", namespace, 2);
      const two = await settled(namespace, "phi", 2);
      // The second A100 of the same node: no new node for the second replica.
      expect(two.workspaces.map((w) => w.status?.workerNodes)).toEqual([[byo], [byo]]);
      expect(await machinesIn(namespace)).toHaveLength(0);

      await scale("phi", namespace, 3);
      const three = await settled(namespace, "phi", 3);
      const newNodes = three.workspaces.flatMap((w) => w.status?.workerNodes ?? []).filter((n) => n !== byo);
      expect(newNodes).toHaveLength(1);
      expect(await machinesIn(namespace)).toHaveLength(1);

      // phi-0 and phi-1 share the user's node: removing either frees nothing; phi-2 frees its node.
      await scale("phi", namespace, 2);
      const back = await settled(namespace, "phi", 2);
      expect(back.workspaces.map((w) => w.metadata!.name)).toEqual(["phi-0", "phi-1"]);
      await operator.client.delete(resources.inferenceSets, "phi", namespace);
      await expectNothingLeft(namespace, newNodes);
    } finally {
      await operator.client.delete(resources.nodes, byo).catch(() => undefined);
    }
  });

  it("holds back replicas past nodeCountLimit, and rolls a changed template one replica at a time", async () => {
    const namespace = await cluster.newNamespace("iset-limit");
    const manifest = parse(readFileSync(example, "utf8")) as Set;
    manifest.metadata = { ...manifest.metadata, namespace };
    manifest.spec.replicas = 3;
    manifest.spec.nodeCountLimit = 2;
    const name = manifest.metadata.name!;
    await operator.client.create(resources.inferenceSets, manifest);

    let last: Set | undefined;
    const limited = await until(
      () => `the limit to hold back one replica (status: ${JSON.stringify(last?.status)})`,
      async () => {
        last = await operator.client.get<Set>(resources.inferenceSets, name, namespace);
        const c = last.status?.conditions?.find((x) => x.type === "InferenceSetReady");
        return last.status?.readyReplicas === 2 && c?.reason === "NodeCountLimitReached" ? last : undefined;
      },
    );
    expect(limited.status?.replicas).toBe(2);
    expect(limited.status?.conditions?.find((c) => c.type === "InferenceSetReady")?.message).toContain(
      "spec.nodeCountLimit 2 leaves room for 2 of 3 replicas",
    );
    expect(await replicas(namespace, name)).toHaveLength(2);

    await operator.client.patch(
      resources.inferenceSets,
      name,
      namespace,
      { spec: { nodeCountLimit: 3 } },
      "merge",
    );
    const three = await settled(namespace, name, 3);
    const before = new Set(three.workspaces.map((w) => w.metadata!.uid));

    // A new template annotation: every replica is replaced, never more than one down at a time.
    await operator.client.patch(
      resources.inferenceSets,
      name,
      namespace,
      { spec: { template: { metadata: { annotations: { "kaito.sh/runtime": "vllm" } } } } },
      "merge",
    );
    let fewestReady = 3;
    const rolled = await until("every replica to carry the new template", async () => {
      const s = await operator.client.get<Set>(resources.inferenceSets, name, namespace);
      fewestReady = Math.min(fewestReady, s.status?.readyReplicas ?? 0);
      const ws = await replicas(namespace, name);
      const fresh = ws.filter((w) => !w.metadata?.deletionTimestamp);
      const done =
        ws.length === 3 &&
        fresh.every(
          (w) => w.metadata?.annotations?.["kaito.sh/runtime"] === "vllm" && !before.has(w.metadata!.uid),
        ) &&
        s.status?.readyReplicas === 3;
      return done ? ws : undefined;
    });
    expect(rolled).toHaveLength(3);
    // maxUnavailable 1 (the default): at least two replicas served throughout.
    expect(fewestReady).toBeGreaterThanOrEqual(2);

    await operator.client.delete(resources.inferenceSets, name, namespace);
    await expectNothingLeft(namespace, []);
  });
});
