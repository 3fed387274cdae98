import { CoreV1Api, type V1Node, type V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { randomSuffix, useTestCluster } from "../harness/index.ts";
import { kwokNodeAnnotation } from "../../localcluster/components.ts";

const cluster = useTestCluster();

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("local cluster", () => {
  it("kwok plays a GPU node and the real scheduler binds a GPU pod to it", async () => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const namespace = await cluster.newNamespace("kwok");
    const nodeName = `gpu-${randomSuffix()}`;
    const node: V1Node = {
      metadata: {
        name: nodeName,
        annotations: { [kwokNodeAnnotation]: "fake" },
        labels: {
          "node.kubernetes.io/instance-type": "Standard_NC24ads_A100_v4",
          "kubernetes.io/hostname": nodeName,
        },
      },
      status: { capacity: { cpu: "24", memory: "220Gi", pods: "110", "nvidia.com/gpu": "1" } },
    };
    await core.createNode({ body: node });
    try {
      const ready = await until("the node to be Ready", async () => {
        const n = await core.readNode({ name: nodeName });
        return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? n : undefined;
      });
      expect(ready.status?.allocatable?.["nvidia.com/gpu"]).toBe("1");

      const pod: V1Pod = {
        metadata: { name: "gpu-pod", namespace },
        spec: {
          containers: [
            { name: "main", image: "example/model:1", resources: { limits: { "nvidia.com/gpu": "1" } } },
          ],
          nodeSelector: { "kubernetes.io/hostname": nodeName },
        },
      };
      await core.createNamespacedPod({ namespace, body: pod });
      const running = await until("the pod to run", async () => {
        const p = await core.readNamespacedPod({ name: "gpu-pod", namespace });
        return p.status?.phase === "Running" ? p : undefined;
      });
      expect(running.spec?.nodeName).toBe(nodeName);
      expect(running.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    } finally {
      await core.deleteNode({ name: nodeName });
    }
  });
});
