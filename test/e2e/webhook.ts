import { componentNames } from "../../controller/operator.ts";
import { randomSuffix, type TestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { deleteWorkspaces } from "./workspaces.ts";

export interface AdmittedOperator {
  operator: RunningOperator;
  /** A new namespace whose Workspaces pass through this operator's admission webhook. */
  newAdmittedNamespace(prefix?: string): Promise<string>;
  /**
   * Deletes the Workspaces of every admitted namespace while the operator can still see them
   * through its finalizer (left behind, a later file's operator would), then stops it.
   */
  stop(): Promise<void>;
}

/**
 * THE HOOK FOR E2E SUITES THAT NEED ADMISSION (the seed examples here; the v1beta1 Workspace
 * e2e once that version is served): the whole operator with its admission webhook on loopback,
 * registered by URL with failurePolicy Fail, as `kaito up` does, but only for namespaces made by
 * `newAdmittedNamespace`. Other test files create Workspaces with no operator running, so a
 * registration for every namespace would refuse theirs; scoped by a label unique to this run, a
 * registration left behind by a crashed run touches only its own (deleted) namespaces. The
 * configurations are deleted when the operator stops.
 */
export async function withAdmissionWebhook(
  cluster: TestCluster,
  o: { bootDelayMs?: number } = {},
): Promise<AdmittedOperator> {
  const scope = { "kaito.sh/webhook-test": randomSuffix(8) };
  const operator = await startOperator(cluster.kubeconfigPath, {
    components: [...componentNames, "webhook"],
    bootDelayMs: o.bootDelayMs,
    webhook: {
      mode: "url",
      configurationName: `kaito-ts-test-${scope["kaito.sh/webhook-test"]}`,
      namespaceLabels: scope,
    },
  });
  await until("the admission webhook to be registered", async () =>
    operator.webhook?.notReady() === undefined ? true : undefined,
  );
  const namespaces: string[] = [];
  return {
    operator,
    async newAdmittedNamespace(prefix = "admitted") {
      const ns = await cluster.newNamespace(prefix, scope);
      namespaces.push(ns);
      return ns;
    },
    async stop() {
      try {
        await Promise.all(namespaces.map((ns) => deleteWorkspaces(operator.client, ns)));
      } finally {
        await operator.stop();
      }
    },
  };
}
