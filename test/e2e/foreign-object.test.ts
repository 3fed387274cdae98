// A Workspace whose Deployment name a user's own Deployment already holds: the operator neither
// takes the object over (a forced server-side apply would) nor changes it, and says so on
// WorkspaceReady (it looks again every 30 s, so deleting the object lets the workspace through).
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import type { Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { deleteWorkspaces } from "./workspaces.ts";

const cluster = useTestCluster();
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
type Ws = Workspace & KubeObject;
type Deployment = KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } };

let operator: RunningOperator;
let namespace: string;

beforeAll(async () => {
  operator = await startOperator(cluster.kubeconfigPath, {
    components: ["workspace", "provisioner", "planner"],
    bootDelayMs: 200,
  });
  namespace = await cluster.newNamespace("foreign");
});

afterAll(async () => {
  if (namespace) await deleteWorkspaces(operator.client, namespace).catch(() => undefined);
  await operator?.stop();
});

describe("a workload name a user's object already holds", () => {
  it("is reported on WorkspaceReady and the user's object is left alone", async () => {
    const { client } = operator;
    const ws = parse(readFileSync(path.join(examplesDir, "kaito_workspace_phi_3.yaml"), "utf8")) as Ws;
    ws.metadata = { ...ws.metadata, namespace };
    const name = ws.metadata.name!;
    const mine = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace, labels: { app: "mine" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: "mine" } },
        template: {
          metadata: { labels: { app: "mine" } },
          spec: { containers: [{ name: "c", image: "busybox" }] },
        },
      },
    } as KubeObject;
    await client.create(resources.deployments, mine);
    await client.create(resources.workspaces, ws);

    let seen: Ws | undefined;
    const condition = await until(
      () => `WorkspaceReady to name the taken Deployment (last status: ${JSON.stringify(seen?.status)})`,
      async () => {
        seen = await client.get<Ws>(resources.workspaces, name, namespace);
        return seen.status?.conditions?.find(
          (c) => c.type === "WorkspaceReady" && c.reason === "WorkloadNameTaken",
        );
      },
      90_000,
    );
    expect(condition.status).toBe("False");
    expect(condition.message).toBe(
      `Deployment ${namespace}/${name} already exists and was not made by workspace ${name}; kaito-ts does not take over objects it did not create: delete or rename it.`,
    );
    const after = await client.get<Deployment>(resources.deployments, name, namespace);
    expect(after.metadata?.labels).toEqual({ app: "mine" });
    expect(after.metadata?.ownerReferences).toBeUndefined();
    expect(after.spec.template.spec.containers.map((c) => c.image)).toEqual(["busybox"]);
  });
});
