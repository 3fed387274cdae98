import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "../../localcluster/cluster.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { Informer, type InformerEvent } from "../../kube/informer.ts";
import { resources } from "../../kube/resources.ts";
import { isNotFound } from "../../kube/errors.ts";

// This suite restarts kube-apiserver, so it runs its own small control plane (etcd and
// kube-apiserver only) instead of the shared one.
let cluster: LocalCluster;
let client: KubeClient;
const abort = new AbortController();

beforeAll(async () => {
  cluster = await startLocalCluster({ controllerManager: false, scheduler: false, kwok: false });
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await client.create(resources.namespaces, { metadata: { name: "informer" } });
});
afterAll(async () => {
  abort.abort();
  client?.close();
  await cluster?.stop();
});

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

async function until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const configMap = (name: string, value: string): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "informer" },
  data: { value },
});

describe("Informer against a real kube-apiserver", () => {
  it("lists in pages, then follows adds, updates and deletes", async () => {
    for (let i = 0; i < 7; i++) await client.create(resources.configMaps, configMap(`pre-${i}`, "0"));
    const informer = new Informer<ConfigMap>({
      client,
      resource: resources.configMaps,
      namespace: "informer",
      pageSize: 3,
    });
    const events: InformerEvent<ConfigMap>[] = [];
    informer.on((e) => events.push(e));
    void informer.start(abort.signal);
    await informer.waitForSync();
    expect(informer.list().filter((c) => c.metadata?.name?.startsWith("pre-"))).toHaveLength(7);

    await client.create(resources.configMaps, configMap("live", "1"));
    await client.patch(resources.configMaps, "live", "informer", { data: { value: "2" } }, "merge");
    await client.delete(resources.configMaps, "pre-0", "informer");
    await until(
      "the three changes",
      () => !informer.get("informer/pre-0") && informer.get("informer/live")?.data?.value === "2",
    );
    const kinds = events
      .filter((e) => ["live", "pre-0"].includes(e.object.metadata!.name!))
      .map((e) => `${e.type}:${e.object.metadata!.name}`);
    expect(kinds).toEqual(expect.arrayContaining(["added:live", "updated:live", "deleted:pre-0"]));
    expect(informer.stats.lists).toBe(1);
  });

  it("resumes across watches that the server ends every second, without relisting", async () => {
    const informer = new Informer<ConfigMap>({
      client,
      resource: resources.configMaps,
      namespace: "informer",
      watchTimeoutSeconds: 1,
    });
    void informer.start(abort.signal);
    await informer.waitForSync();
    for (let i = 0; i < 5; i++) {
      await client.create(resources.configMaps, configMap(`drop-${i}`, String(i)));
      await new Promise((r) => setTimeout(r, 700));
    }
    await until("all five objects", () => [0, 1, 2, 3, 4].every((i) => informer.get(`informer/drop-${i}`)));
    expect(informer.stats.watches).toBeGreaterThanOrEqual(3);
    expect(informer.stats.lists).toBe(1);
  });

  it("survives a kube-apiserver restart and sees what changed during and after it", async () => {
    const informer = new Informer<ConfigMap>({
      client,
      resource: resources.configMaps,
      namespace: "informer",
    });
    void informer.start(abort.signal);
    await informer.waitForSync();
    await client.create(resources.configMaps, configMap("before-restart", "a"));
    await until("the object before the restart", () => !!informer.get("informer/before-restart"));

    await cluster.restart("kube-apiserver");
    await client.delete(resources.configMaps, "before-restart", "informer");
    await client.create(resources.configMaps, configMap("after-restart", "b"));
    await until(
      "the changes after the restart",
      () => !informer.get("informer/before-restart") && !!informer.get("informer/after-restart"),
    );
    expect(informer.stats.errors + informer.stats.relistsOnGone).toBeGreaterThanOrEqual(1);

    // The cache equals a fresh list: nothing was lost or left behind.
    const fresh = await client.list<ConfigMap>(resources.configMaps, { namespace: "informer" });
    await until("the cache to match a fresh list", () => informer.list().length === fresh.items.length);
    expect(
      informer
        .list()
        .map((c) => c.metadata!.name)
        .sort(),
    ).toEqual(fresh.items.map((c) => c.metadata!.name).sort());
  });

  it("turns API failures into typed errors", async () => {
    const missing = await client.get(resources.configMaps, "nope", "informer").catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
  });
});
