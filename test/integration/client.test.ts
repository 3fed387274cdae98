import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { isKubeApiError, isNotFound } from "../../kube/errors.ts";
import { resources } from "../../kube/resources.ts";

const cluster = useTestCluster();
let client: KubeClient;
let namespace: string;
beforeAll(async () => {
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  namespace = await cluster.newNamespace("client");
});
afterAll(() => client?.close());

describe("KubeClient against a real kube-apiserver", () => {
  it("sends a delete's options: a stale uid precondition is refused, the right one deletes", async () => {
    const created = await client.create<KubeObject>(resources.configMaps, {
      metadata: { name: "guarded", namespace },
    } as KubeObject);
    // Before the body carried its Content-Length, Node sent a DELETE's body unframed and the API
    // server deleted without the precondition.
    const refused = await client
      .delete(resources.configMaps, "guarded", namespace, { uid: "00000000-0000-0000-0000-000000000000" })
      .catch((e: unknown) => e);
    expect(isKubeApiError(refused) && refused.statusCode).toBe(409);
    expect((refused as Error).message).toMatch(/UID in the precondition .* does not match the UID in record/);
    await client.delete(resources.configMaps, "guarded", namespace, { uid: created.metadata!.uid! });
    const gone = await client.get(resources.configMaps, "guarded", namespace).catch((e: unknown) => e);
    expect(isNotFound(gone)).toBe(true);
  });
});
