import type { V1Node } from "@kubernetes/client-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import type { Machine, Workspace } from "../../crds/index.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import { inferenceRequirement, mustGetPreset } from "../../presets/index.ts";
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
const condition = (ws: Ws | undefined, type: string) => ws?.status?.conditions?.find((c) => c.type === type);

function workspace(name: string, namespace: string, resource: Partial<Workspace["resource"]>): Ws {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace },
    resource: { labelSelector: { matchLabels: { apps: name } }, ...resource },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

async function waitFor(namespace: string, name: string, done: (ws: Ws) => boolean): Promise<Ws> {
  let last: Ws | undefined;
  return until(
    () =>
      `${name}: ${JSON.stringify(last?.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`))}`,
    async () => {
      last = await operator.client.get<Ws>(resources.workspaces, name, namespace);
      return done(last) ? last : undefined;
    },
  );
}

const machinesIn = async (namespace: string) =>
  (await operator.client.list<Machine & KubeObject>(resources.machines)).items.filter(
    (m) => m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace,
  );

/** Deletes the namespace's workspaces and proves nothing of them is left: no Machine, node or instance. */
async function deleteAndExpectNoLeak(namespace: string): Promise<void> {
  const client = operator.client;
  const list = await client.list<Ws>(resources.workspaces, { namespace });
  const nodeNames = new Set((await machinesIn(namespace)).map((m) => m.metadata!.name!));
  for (const ws of list.items) await client.delete(resources.workspaces, ws.metadata!.name!, namespace);
  await until(
    () => `no workspace, Machine, node or instance left in ${namespace}`,
    async () => {
      const ws = await client.list<Ws>(resources.workspaces, { namespace });
      const machines = await machinesIn(namespace);
      const nodes = (await client.list<V1Node & KubeObject>(resources.nodes)).items.filter((n) =>
        nodeNames.has(n.metadata!.name!),
      );
      const instances = (await operator.cloud.list()).filter((i) => nodeNames.has(i.machineName));
      return ws.items.length + machines.length + nodes.length + instances.length === 0 ? true : undefined;
    },
  );
}

let namespace: string;
afterEach(async () => {
  if (namespace) await deleteAndExpectNoLeak(namespace);
});

describe("planning on the local cluster", () => {
  it("runs a Workspace without instanceType on the planner's cheapest choice, shown on its status", async () => {
    namespace = await cluster.newNamespace("plan");
    await operator.client.create(resources.workspaces, workspace("auto", namespace, { count: 2 }));
    const ws = await waitFor(namespace, "auto", (w) => condition(w, "WorkspaceReady")?.status === "True");

    // The same question put to the planner directly gives the same answer.
    const need = inferenceRequirement(mustGetPreset("phi-3-mini-4k-instruct"));
    const plan = await new InProcessPlannerClient().plan({
      demands: [
        {
          name: "auto",
          replicas: 2,
          totalGpuMemoryGiB: need.totalGpuMemoryGiB,
          minGpuMemoryGiB: need.minGpuMemoryGiB,
          labels: { apps: "auto" },
          maxNodesPerReplica: 1,
          skus: (await new InProcessPlannerClient().catalog()).filter((s) => !s.retired).map((s) => s.name),
        },
      ],
    });
    expect(ws.status?.instanceType).toBe(plan.newNodes[0]!.sku);
    expect(Number(ws.status?.costPerHour)).toBeCloseTo(plan.costPerHour, 3);
    expect(ws.status?.placement).toMatchObject({ replicas: 2, newNodes: plan.newNodes.length });
    const machines = await machinesIn(namespace);
    expect(machines).toHaveLength(plan.newNodes.length);
    expect(
      machines.every((m) => m.spec?.requirements?.some((r) => r.values?.[0] === plan.newNodes[0]!.sku)),
    ).toBe(true);
  });

  it("falls back to another size when the planner's choice cannot be launched", async () => {
    namespace = await cluster.newNamespace("fallback");
    const first = "Standard_NC4as_T4_v3";
    operator.cloud.faults.exhaustQuota({ sku: first });
    try {
      await operator.client.create(resources.workspaces, workspace("fallback", namespace, {}));
      const ws = await waitFor(
        namespace,
        "fallback",
        (w) => condition(w, "WorkspaceReady")?.status === "True",
      );
      expect(ws.status?.failedInstanceTypes).toContain(first);
      expect(ws.status?.instanceType).not.toBe(first);
      const machines = await machinesIn(namespace);
      expect(machines.map((m) => m.spec?.requirements?.[0]?.values?.[0])).toEqual([ws.status?.instanceType]);
    } finally {
      operator.cloud.faults.restoreQuota({ sku: first });
    }
  });

  it("reports a named size that cannot be launched as a failure condition, without leaking its Machine", async () => {
    namespace = await cluster.newNamespace("named");
    operator.cloud.faults.exhaustQuota({ sku: "Standard_NC6s_v3" });
    try {
      await operator.client.create(
        resources.workspaces,
        workspace("named", namespace, { instanceType: "Standard_NC6s_v3" }),
      );
      const ws = await waitFor(namespace, "named", (w) => condition(w, "ResourceReady")?.status === "False");
      expect(condition(ws, "ResourceReady")?.reason).toBe("QuotaExceeded");
      expect(condition(ws, "ResourceReady")?.message).toMatch(/Standard_NC6s_v3 could not be launched/);
      await until(
        () => "the failed Machine to be cleaned up",
        async () => ((await machinesIn(namespace)).length === 0 ? true : undefined),
      );
    } finally {
      operator.cloud.faults.restoreQuota({ sku: "Standard_NC6s_v3" });
    }
  });

  it("rides out transient launch failures on the same size", async () => {
    namespace = await cluster.newNamespace("transient");
    operator.cloud.faults.failNextLaunches(2, "transient");
    await operator.client.create(
      resources.workspaces,
      workspace("transient", namespace, { instanceType: "Standard_NC6s_v3" }),
    );
    const ws = await waitFor(
      namespace,
      "transient",
      (w) => condition(w, "WorkspaceReady")?.status === "True",
    );
    expect(ws.status?.failedInstanceTypes ?? []).toEqual([]);
  });

  it("rolls a spec change out to the running workload", async () => {
    namespace = await cluster.newNamespace("rollout");
    const client = operator.client;
    await client.create(
      resources.workspaces,
      workspace("rollout", namespace, { instanceType: "Standard_NC6s_v3" }),
    );
    await waitFor(namespace, "rollout", (w) => condition(w, "WorkspaceReady")?.status === "True");
    type Deployment = KubeObject & {
      spec?: { template?: { spec?: { containers?: { args?: string[] }[] } } };
    };
    const before = await client.get<Deployment>(resources.deployments, "rollout", namespace);
    const argsBefore = before.spec?.template?.spec?.containers?.[0]?.args ?? [];

    await client.patch(
      resources.workspaces,
      "rollout",
      namespace,
      { inference: { preset: { name: "phi-3-mini-128k-instruct" } } },
      "merge",
    );
    const after = await until(
      () => "the Deployment to carry the new preset",
      async () => {
        const d = await client.get<Deployment>(resources.deployments, "rollout", namespace);
        const args = d.spec?.template?.spec?.containers?.[0]?.args ?? [];
        return JSON.stringify(args) !== JSON.stringify(argsBefore) ? d : undefined;
      },
    );
    expect(JSON.stringify(after.spec?.template?.spec?.containers?.[0]?.args)).toMatch(/128k/i);
    const ws = await waitFor(
      namespace,
      "rollout",
      (w) =>
        condition(w, "WorkspaceReady")?.status === "True" &&
        w.status?.observedGeneration === w.metadata?.generation,
    );
    // Same GPU need: the rollout reuses the Machine it had.
    expect(ws.status?.machines).toHaveLength(1);
    expect((await machinesIn(namespace)).map((m) => m.metadata!.name)).toEqual(ws.status?.machines);
  });
});
