// Twenty auto-sized Workspaces of ten models with one label set, applied together (as
// `kubectl apply -f dir/` does): the controller plans them as one batch, so replicas share
// nodes, and the cluster ends up paying what `kaito plan -f` of the same manifests says, less
// than planning them one at a time (which the controller did before batching). Deleting the host
// of a shared node then hands the node to a guest rather than disrupting it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { V1Pod } from "@kubernetes/client-node";
import { workspaceLabel, type Machine, type Workspace } from "../../crds/index.ts";
import { placeManifests, workspaceProblem } from "../../cli/commands/plan.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { findSku, toCatalogEntries } from "../../planner/catalog/index.ts";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import { startOperator, type RunningOperator } from "./operator.ts";

const cluster = useTestCluster();
let operator: RunningOperator;
let namespace: string;
beforeAll(async () => {
  operator = await startOperator(cluster.kubeconfigPath, { bootDelayMs: 200 });
  namespace = await cluster.newNamespace("batch");
});
afterAll(async () => {
  if (operator && namespace) {
    const list = await operator.client.list<Ws>(resources.workspaces, { namespace });
    await Promise.all(
      list.items.map((w) => operator.client.delete(resources.workspaces, w.metadata!.name!, namespace)),
    );
    await until("the batch's Workspaces and Machines to be gone", async () =>
      (await operator.client.list<Ws>(resources.workspaces, { namespace })).items.length === 0
        ? true
        : undefined,
    );
  }
  await operator?.stop();
});

type Ws = Workspace & KubeObject;

const MODELS = [
  "phi-2",
  "phi-3-mini-4k-instruct",
  "phi-3.5-mini-instruct",
  "phi-4-mini-instruct",
  "mistral-7b-instruct",
  "qwen2.5-coder-7b-instruct",
  "llama-3.1-8b-instruct",
  "deepseek-r1-distill-llama-8b",
  "falcon-7b-instruct",
  "phi-4",
];

function manifests(ns: string): Ws[] {
  return MODELS.flatMap((model, i) =>
    ["a", "b"].map((k) => ({
      apiVersion: "kaito.sh/v1alpha1",
      kind: "Workspace",
      metadata: { name: `ws-${i}-${k}`, namespace: ns },
      resource: { labelSelector: { matchLabels: { apps: "twenty" } } },
      inference: { preset: { name: model } },
    })),
  );
}

describe("Workspaces applied together", () => {
  it("share nodes and cost what kaito plan -f says, less than one at a time", async () => {
    const all = manifests(namespace);
    await Promise.all(all.map((ws) => operator.client.create(resources.workspaces, ws)));
    const ready = await until(
      "every Workspace to be ready",
      async () => {
        const list = (await operator.client.list<Ws>(resources.workspaces, { namespace })).items;
        const done = list.filter((w) =>
          w.status?.conditions?.some((c) => c.type === "WorkspaceReady" && c.status === "True"),
        );
        return done.length === all.length ? list : undefined;
      },
      50_000,
    );

    const machines = (await operator.client.list<Machine & KubeObject>(resources.machines)).items.filter(
      (m) => m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace,
    );
    const price = (m: Machine) =>
      findSku(m.spec!.requirements!.find((r) => r.key === "node.kubernetes.io/instance-type")!.values![0]!)!
        .pricePerHour;
    const clusterCost = Math.round(machines.reduce((s, m) => s + price(m), 0) * 1000) / 1000;

    const catalog = toCatalogEntries();
    const predicted = await placeManifests(all, workspaceProblem(all, catalog).problem, {
      timeLimitMs: 10_000,
      mipGap: 0,
    });
    let oneAtATime = 0;
    for (const ws of all) {
      oneAtATime += (
        await placeManifests([ws], workspaceProblem([ws], catalog).problem, {
          timeLimitMs: 10_000,
          mipGap: 0,
        })
      ).costPerHour;
    }
    console.log(
      `batching: ${all.length} Workspaces applied together run on ${machines.length} nodes at $${clusterCost.toFixed(2)}/h; ` +
        `kaito plan -f says $${predicted.costPerHour.toFixed(2)}/h on ${predicted.newNodes.length} nodes; one at a time $${oneAtATime.toFixed(2)}/h`,
    );
    expect(ready.some((w) => (w.status?.placement?.sharedNodes ?? []).length > 0)).toBe(true);
    expect(machines.length).toBe(predicted.newNodes.length);
    expect(clusterCost).toBeCloseTo(predicted.costPerHour, 3);
    expect(clusterCost).toBeLessThan(oneAtATime);

    // A host goes while a guest runs on its node: the guest keeps its pod and node, and the
    // node's Machine is relabelled to it.
    const guest = ready.find((w) => (w.status?.placement?.sharedNodes ?? []).length > 0)!;
    const shared = guest.status!.placement!.sharedNodes![0]!;
    const host = shared.launchedBy.split("/")[1]!;
    const pods = async (name: string) =>
      (
        await operator.client.list<V1Pod & KubeObject>(resources.pods, {
          namespace,
          labelSelector: `${workspaceLabel}=${name}`,
        })
      ).items
        .filter((p) => !p.metadata?.deletionTimestamp)
        .map((p) => `${p.metadata!.uid}@${p.spec?.nodeName}`)
        .sort();
    const guestPods = await pods(guest.metadata!.name!);
    await operator.client.delete(resources.workspaces, host, namespace);
    await until(`host ${host} to be gone`, async () =>
      (await operator.client.get<Ws>(resources.workspaces, host, namespace).catch(() => undefined))
        ? undefined
        : true,
    );
    const handed = await operator.client.get<Machine & KubeObject>(resources.machines, shared.name);
    expect(handed.metadata?.deletionTimestamp).toBeUndefined();
    // The first live guest by name takes it: this one, or another guest of the same node.
    const adopter = handed.metadata!.labels![workspaceLabel]!;
    expect(adopter).not.toBe(host);
    const sharers = ready
      .filter((w) => w.metadata!.name !== host)
      .filter((w) => (w.status?.placement?.sharedNodes ?? []).some((s) => s.name === shared.name))
      .map((w) => w.metadata!.name!)
      .sort();
    expect(adopter).toBe(sharers[0]);
    expect(await pods(guest.metadata!.name!)).toEqual(guestPods);
    const after = await operator.client.get<Ws>(resources.workspaces, guest.metadata!.name!, namespace);
    expect(after.status?.workerNodes).toEqual(guest.status?.workerNodes);
  }, 90_000);
});
