// Name collisions against the real API server: a name held by another workspace's Machine is
// never adopted; the workspace moves to its next candidate and stays there.
import { afterAll, describe, expect, it } from "vitest";
import type { Machine, Workspace } from "../../crds/index.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { Informer } from "../../kube/informer.ts";
import { resources } from "../../kube/resources.ts";
import { randomSuffix, useTestCluster } from "../../test/harness/index.ts";
import { ClaimSet } from "./claims.ts";
import { ownerLabels } from "./labels.ts";
import { desiredMachine, machineClaimKind } from "./machines.ts";
import { nodeObjectName } from "./naming.ts";

const cluster = useTestCluster();
const made: string[] = [];
let client: KubeClient;
afterAll(async () => {
  await Promise.all(made.map((n) => client?.delete(resources.machines, n).catch(() => undefined)));
  client?.close();
});

function workspace(name: string, namespace: string): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace, uid: `${name}-${randomSuffix()}` },
    resource: { labelSelector: { matchLabels: { apps: name } } },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

describe("a Machine name another workspace holds", () => {
  it("is skipped with a warning, never adopted, and the workspace keeps its next name after the other goes", async () => {
    client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
    const ns = `names-${randomSuffix()}`;
    const mine = workspace("mine", ns);
    const theirs = workspace("theirs", ns);
    const size = "Standard_NC6s_v3";
    const request = { instanceType: size, newNodes: 1, existingNodes: [], gpusPerNode: 1, osDiskGiB: 128 };
    const first = nodeObjectName(mine, size, 0);
    const second = nodeObjectName(mine, size, 0, 1);
    made.push(first, second);

    // Another workspace's Machine under the name `mine` would take first.
    const squatter = desiredMachine(theirs, request, first);
    await client.create(resources.machines, squatter);

    let cached: (Machine & KubeObject)[] = [];
    const refresh = async () => {
      cached = (await client.list<Machine & KubeObject>(resources.machines)).items.filter((m) =>
        [first, second].includes(m.metadata!.name!),
      );
    };
    const events: { reason: string; message: string }[] = [];
    const recorder: EventRecorder = { event: (_o, _t, reason, message) => events.push({ reason, message }) };
    const set = new ClaimSet({
      kind: machineClaimKind,
      client,
      recorder,
      cache: { list: () => cached } as unknown as Informer<Machine & KubeObject>,
    });

    await refresh();
    const state = await set.reconcile(mine, request);
    expect(state).toMatchObject({ kind: "waiting", machines: [second] });
    expect(events.map((e) => e.reason)).toEqual(["MachineNameTaken", "MachineCreated"]);
    expect(events[0]!.message).toContain(`belongs to ${ns}/theirs`);
    const held = await client.get<Machine & KubeObject>(resources.machines, first);
    expect(held.metadata?.labels).toMatchObject(ownerLabels(theirs));

    // The squatter goes: the workspace stays on the name it has, and makes no second Machine.
    await client.delete(resources.machines, first);
    await refresh();
    const after = await new ClaimSet({
      kind: machineClaimKind,
      client,
      recorder,
      cache: { list: () => cached } as unknown as Informer<Machine & KubeObject>,
    }).reconcile(mine, request);
    expect(after).toMatchObject({ machines: [second] });
    await refresh();
    expect(cached.map((m) => m.metadata!.name)).toEqual([second]);
  });
});
