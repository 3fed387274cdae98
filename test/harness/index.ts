import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, inject } from "vitest";

export interface TestCluster {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /**
   * Creates a namespace (and waits for its default ServiceAccount); it is deleted after the file.
   * `labels` are added to the namespace's (a webhook's namespaceSelector can pick it).
   */
  newNamespace(prefix?: string, labels?: Record<string, string>): Promise<string>;
}

/** A random DNS-1123 suffix, so parallel runs and retries never collide on names. */
export function randomSuffix(length = 6): string {
  return randomBytes(length).toString("hex").slice(0, length);
}

/**
 * Connects a test file to the run's shared local cluster. Call at module top level; the fields
 * are filled before the first test runs.
 */
export function useTestCluster(): TestCluster {
  const created: string[] = [];
  const cluster = {} as TestCluster;
  beforeAll(() => {
    const kubeconfigPath = inject("kubeconfigPath");
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    Object.assign(cluster, {
      kubeconfigPath,
      kubeConfig,
      async newNamespace(prefix = "test", labels: Record<string, string> = {}) {
        const name = `${prefix}-${randomSuffix()}`;
        await core.createNamespace({
          body: { metadata: { name, labels: { ...labels, "kaito.sh/test": "true" } } },
        });
        created.push(name);
        for (let i = 0; i < 100; i++) {
          try {
            await core.readNamespacedServiceAccount({ name: "default", namespace: name });
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        return name;
      },
    } satisfies TestCluster);
  });
  afterAll(async () => {
    const core = cluster.kubeConfig?.makeApiClient(CoreV1Api);
    await Promise.all(created.map((name) => core?.deleteNamespace({ name }).catch(() => undefined)));
  });
  return cluster;
}
