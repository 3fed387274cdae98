// A seeded cluster for the benchmark: the same nodes and pods in the server worker and the client.
import type { V1Node } from "@kubernetes/client-node";
import { MemoryClusterView } from "../cluster-view.ts";
import { nodeObject, podObject } from "../fixtures.ts";

export { seededRandom } from "../../lib/random.ts";
import { seededRandom } from "../../lib/random.ts";

export interface BenchCluster {
  nodes: V1Node[];
  view: MemoryClusterView;
}

/**
 * `size` GPU nodes, half with 8 GPUs and half with 4, a tenth of them T4s (16 GiB) that the
 * benchmark pod's memory annotation rules out, a few reserved for other workspaces, and random
 * GPU pods already running on them.
 */
export function benchCluster(size: number, seed = 42): BenchCluster {
  const random = seededRandom(seed + size);
  const view = new MemoryClusterView({ synced: true });
  const nodes: V1Node[] = [];
  for (let i = 0; i < size; i++) {
    const gpus = i % 2 === 0 ? 8 : 4;
    const t4 = random() < 0.1;
    const node = nodeObject({
      name: `aks-gpu-${String(i).padStart(5, "0")}`,
      gpus,
      ...(t4 ? { gpuMemoryMiB: 16384, product: "Tesla-T4" } : {}),
      ...(random() < 0.05 ? { workspace: `bench/other-${i % 7}` } : {}),
    });
    nodes.push(node);
    view.upsertNode(node);
    let used = Math.floor(random() * (gpus + 1));
    for (let p = 0; used > 0; p++) {
      const take = Math.min(used, 1 << Math.floor(random() * 3));
      used -= take;
      view.upsertPod(
        podObject({
          name: `run-${i}-${p}`,
          namespace: "bench",
          gpus: take,
          nodeName: node.metadata!.name!,
          workspace: random() < 0.3 ? "ws" : `ws-${p}`,
        }),
      );
    }
  }
  return { nodes, view };
}

/** The pod being scheduled: 2 GPUs of at least 40 GiB, a workspace, and two planned nodes. */
export function benchPod(size: number) {
  return podObject({
    name: "llama-3-8b-instruct-0",
    namespace: "bench",
    gpus: 2,
    workspace: "ws",
    minGpuMemoryMiB: 40960,
    plannedNodes: [
      `aks-gpu-${String(size - 1).padStart(5, "0")}`,
      `aks-gpu-${String(size - 2).padStart(5, "0")}`,
    ],
  });
}
