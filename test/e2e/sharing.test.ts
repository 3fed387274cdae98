// Nodes shared beyond one batch, and handed over when their owner goes (sharing.ts), with the
// builtin provisioner's Machines; karpenter.test.ts runs the same with the real Karpenter's
// NodeClaims.
import { afterAll, beforeAll, describe, it } from "vitest";
import { resources } from "../../kube/resources.ts";
import { useTestCluster } from "../harness/index.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { sharedNodeScenario } from "./sharing.ts";
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

describe("a node shared beyond its batch", () => {
  it("takes a later workspace's replica, and outlives its owner for the workspace still on it", async () => {
    await sharedNodeScenario(operator.client, namespace, resources.machines);
  });
});
