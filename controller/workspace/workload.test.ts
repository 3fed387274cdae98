import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import type { V1PodTemplateSpec } from "@kubernetes/client-node";
import type { Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import type { Informer } from "../../kube/informer.ts";
import { KubeApiError } from "../../kube/errors.ts";
import { findSku } from "../../planner/catalog/index.ts";
import { placeOnInstanceType } from "./placement.ts";
import { modelNeed } from "./requirement.ts";
import { defaultSchedulerName, reconcileWorkload, type WorkloadCaches } from "./workload.ts";

const examples = path.resolve(import.meta.dirname, "../../../shared/examples");
function example(file: string): Workspace {
  const ws = parse(readFileSync(path.join(examples, file), "utf8")) as Workspace;
  ws.metadata = { ...ws.metadata, namespace: "default", uid: "0b7c6c1e-1" };
  return ws;
}

type Applied = KubeObject & { spec?: { template?: V1PodTemplateSpec } };

/**
 * A client that keeps what the workload applies and the ConfigMaps it creates; the caches are
 * empty, so everything is applied.
 */
function recording(): { client: KubeClient; caches: WorkloadCaches; applied: Applied[] } {
  const applied: Applied[] = [];
  const configMaps = new Map<string, KubeObject>();
  const client = {
    patch: async (_r: unknown, _name: string, _ns: string | undefined, obj: Applied) => {
      applied.push(obj);
      return obj;
    },
    delete: async () => ({}),
    get: async (_r: unknown, name: string, ns: string) => {
      const found = configMaps.get(`${ns}/${name}`);
      if (!found)
        throw new KubeApiError({ statusCode: 404, reason: "NotFound", message: "", method: "GET", path: "" });
      return found;
    },
    create: async (_r: unknown, obj: KubeObject) => {
      configMaps.set(`${obj.metadata!.namespace}/${obj.metadata!.name}`, obj);
      return obj;
    },
  } as unknown as KubeClient;
  const empty = { get: () => undefined } as unknown as Informer<KubeObject>;
  const caches = { deployments: empty, statefulSets: empty, jobs: empty, services: empty };
  return { client, caches: caches as unknown as WorkloadCaches, applied };
}

async function podTemplates(ws: Workspace, instanceType: string, schedulerName: string) {
  const need = modelNeed(ws);
  if (need.kind !== "preset") throw new Error("preset expected");
  const placement = placeOnInstanceType(ws, need.requirement, findSku(instanceType), instanceType);
  const nodes = Array.from({ length: placement.newNodes }, (_, i) => `node-${i}`);
  const { client, caches, applied } = recording();
  await reconcileWorkload(ws, need, placement, nodes, client, caches, schedulerName);
  return applied
    .filter((o) => o.spec?.template)
    .map((o) => [`${o.kind}/${o.metadata?.name}`, o.spec!.template!.spec?.schedulerName] as const);
}

describe("the workload's scheduler", () => {
  it("is the one named for the Deployment of a single-node workspace", async () => {
    expect(
      await podTemplates(example("kaito_workspace_phi_3.yaml"), "Standard_NC6s_v3", "kaito-scheduler"),
    ).toEqual([["Deployment/workspace-phi-3-mini", "kaito-scheduler"]]);
  });

  it("is the one named for both StatefulSets of a multi-node replica", async () => {
    const ws = {
      ...example("kaito_workspace_phi_3.yaml"),
      inference: { preset: { name: "llama-3.3-70b-instruct" } },
    };
    ws.resource = { ...ws.resource, instanceType: "Standard_NC24ads_A100_v4", count: 2 };
    expect(await podTemplates(ws, "Standard_NC24ads_A100_v4", "kaito-scheduler")).toEqual([
      ["StatefulSet/workspace-phi-3-mini-leader", "kaito-scheduler"],
      ["StatefulSet/workspace-phi-3-mini-worker", "kaito-scheduler"],
    ]);
  });

  it("is the one named for the tuning Job", async () => {
    expect(
      await podTemplates(example("kaito_workspace_phi_3_tuning.yaml"), "Standard_NC6s_v3", "kaito-scheduler"),
    ).toEqual([["Job/workspace-phi-3-mini-tuning", "kaito-scheduler"]]);
  });

  it("is the cluster's default unless named, and a user's template keeps its own", async () => {
    expect(
      await podTemplates(example("kaito_workspace_phi_3.yaml"), "Standard_NC6s_v3", defaultSchedulerName),
    ).toEqual([["Deployment/workspace-phi-3-mini", "default-scheduler"]]);
    const custom = example("kaito_workspace_phi_3.yaml");
    custom.inference = {
      template: {
        spec: {
          schedulerName: "their-scheduler",
          containers: [
            { name: "app", image: "example/app:1", resources: { limits: { "nvidia.com/gpu": "1" } } },
          ],
        },
      },
    };
    const placement = {
      instanceType: "Standard_NC6s_v3",
      replicas: 1,
      gpusPerPod: 1,
      nodesPerReplica: 1,
      newNodes: 1,
      existingNodes: [],
      costPerHour: 0,
    };
    const { client, caches, applied } = recording();
    await reconcileWorkload(
      custom,
      modelNeed(custom),
      placement,
      ["node-0"],
      client,
      caches,
      "kaito-scheduler",
    );
    expect(applied.find((o) => o.kind === "Deployment")?.spec?.template?.spec?.schedulerName).toBe(
      "their-scheduler",
    );
  });
});
