import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { V1Node, V1Pod, V1Service } from "@kubernetes/client-node";
import { parse } from "yaml";
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

const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
// The seed's v1alpha1 examples and the v1beta1 Workspaces users copy from KAITO today; the
// v1beta1 InferenceSet example has its own suite (inferenceset.test.ts).
const examples = ["", "v1beta1"].flatMap((dir) =>
  readdirSync(path.join(examplesDir, dir))
    .filter((f) => f.endsWith(".yaml") && !f.startsWith("inferenceset"))
    .sort()
    .map((f) => path.join(dir, f)),
);

const condition = (ws: Workspace, type: string) => ws.status?.conditions?.find((c) => c.type === type);
type Ws = Workspace & KubeObject;

describe("the KAITO doc examples on the local cluster", () => {
  it.each(examples)("%s reaches its ready state, then deletes without leftovers", async (file) => {
    const client = operator.client;
    const namespace = await cluster.newNamespace("example");
    const manifest = parse(readFileSync(path.join(examplesDir, file), "utf8")) as Ws;
    manifest.metadata = { ...manifest.metadata, namespace };
    await client.create(resources.workspaces, manifest);
    const name = manifest.metadata.name!;
    const tuning = !!manifest.tuning;

    let seen: Ws | undefined;
    const ws = await until(`${file} to be ready (last status: ${JSON.stringify(seen?.status)})`, async () => {
      const w = await client.get<Ws>(resources.workspaces, name, namespace);
      seen = w;
      const done = tuning
        ? condition(w, "JobStarted")?.status === "True"
        : condition(w, "WorkspaceReady")?.status === "True";
      return done ? w : undefined;
    });
    // The size named, or the planner's choice for a manifest that names none.
    const instanceType = manifest.resource.instanceType ?? ws.status?.instanceType;
    expect(instanceType).toBeTruthy();
    expect(ws.status?.instanceType).toBe(instanceType);
    expect(condition(ws, "ResourceReady")?.status).toBe("True");

    // Machines Ready, their nodes carrying the selector's labels.
    const machines = (await client.list<Machine & KubeObject>(resources.machines)).items.filter(
      (m) =>
        m.metadata?.labels?.["kaito.sh/workspace"] === name &&
        m.metadata.labels["kaito.sh/workspacenamespace"] === namespace,
    );
    expect(machines).toHaveLength(1);
    expect(machines[0]!.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    const nodeName = machines[0]!.status!.nodeName!;
    const node = await client.get<V1Node & KubeObject>(resources.nodes, nodeName);
    for (const [k, v] of Object.entries(manifest.resource.labelSelector.matchLabels ?? {}))
      expect(node.metadata?.labels?.[k]).toBe(v);
    expect(node.metadata?.labels?.["node.kubernetes.io/instance-type"]).toBe(instanceType);

    const pods = (
      await client.list<V1Pod & KubeObject>(resources.pods, {
        namespace,
        labelSelector: `kaito.sh/workspace=${name}`,
      })
    ).items;
    expect(pods.length).toBeGreaterThanOrEqual(1);
    expect(pods.every((p) => p.spec?.nodeName === nodeName)).toBe(true);

    if (!tuning) {
      expect(pods.every((p) => p.status?.phase === "Running")).toBe(true);
      const svc = await client.get<V1Service & KubeObject>(resources.services, name, namespace);
      expect(svc.spec?.ports?.map((p) => p.port)).toEqual([80]);
      await until("ready endpoints behind the Service", async () => {
        const slices = await client.list<KubeObject & { endpoints?: { conditions?: { ready?: boolean } }[] }>(
          resources.endpointSlices,
          {
            namespace,
            labelSelector: `kubernetes.io/service-name=${name}`,
          },
        );
        return slices.items.some((s) => s.endpoints?.some((e) => e.conditions?.ready)) ? true : undefined;
      });
    }

    await client.delete(resources.workspaces, name, namespace);
    await until("the workspace to be gone", async () => {
      try {
        await client.get(resources.workspaces, name, namespace);
        return undefined;
      } catch {
        return true;
      }
    });
    await until("its Machines and nodes to be gone", async () => {
      const left = (await client.list<Machine & KubeObject>(resources.machines)).items.filter(
        (m) => m.metadata?.labels?.["kaito.sh/workspacenamespace"] === namespace,
      );
      const nodes = (await client.list<V1Node & KubeObject>(resources.nodes)).items.filter(
        (n) => n.metadata?.name === nodeName,
      );
      return left.length === 0 && nodes.length === 0 ? true : undefined;
    });
  });
});
