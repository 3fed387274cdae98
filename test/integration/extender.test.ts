// The GPU extender with the real kube-scheduler: two more kube-scheduler processes (own
// schedulerNames; one sends node names, the other full Node objects) wired to the extender by
// deploy/scheduler/kube-scheduler-config.yaml, against the
// run's shared cluster, with kwok playing the GPU nodes. Each scenario uses its own labelled nodes
// and pods select them by nodeSelector, so the scenarios (and the shared default scheduler, which
// is the "kube-scheduler alone" arm) never compete for a node.
import { readFileSync } from "node:fs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import { kwokNodeAnnotation } from "../../localcluster/components.ts";
import { startScheduler, type RunningScheduler } from "../../localcluster/scheduler.ts";
import { seededRandom } from "../../scheduler/bench/dataset.ts";
import {
  gpuCountLabel,
  gpuMemoryLabel,
  gpuProductLabel,
  gpuResource,
  minGpuMemoryAnnotation,
  plannedNodesAnnotation,
  workspaceLabel,
} from "../../scheduler/contract.ts";
import { startGpuExtender, type GpuExtender } from "../../scheduler/run.ts";
import { kubeSchedulerConfig } from "../../scheduler/scheduler-config.ts";
import { randomSuffix, useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";

const cluster = useTestCluster();
const run = randomSuffix();
const schedulerName = `kaito-gpu-${run}`;
/** A second profile that sends full Node objects (nodeCacheCapable: false) to the same extender. */
const fullNodesSchedulerName = `kaito-gpu-full-${run}`;
const setLabel = "kaito.sh/test-node-set";

interface Node extends KubeObject {
  spec?: { taints?: { key: string; effect: string }[] };
  status?: {
    allocatable?: Record<string, string>;
    conditions?: { type: string; status: string }[];
  };
}

interface Pod extends KubeObject {
  spec: Record<string, unknown> & { nodeName?: string };
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

let client: KubeClient;
let extender: GpuExtender;
let names: RunningScheduler;
let fullNodes: RunningScheduler;
const registry = new Registry();
const createdNodes: string[] = [];

interface GpuNodeSpec {
  name: string;
  set: string;
  gpus: number;
  gpuMemoryMiB?: number;
  product?: string;
}

/** Creates kwok GPU nodes with GPU Feature Discovery labels and waits until both schedulers can use them. */
async function createNodes(specs: GpuNodeSpec[]): Promise<void> {
  await Promise.all(
    specs.map(async (s) => {
      await client.create<Node>(resources.nodes, {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: s.name,
          annotations: { [kwokNodeAnnotation]: "fake" },
          labels: {
            "kubernetes.io/hostname": s.name,
            [setLabel]: s.set,
            [gpuProductLabel]: s.product ?? "NVIDIA-A100-SXM4-80GB",
            [gpuMemoryLabel]: String(s.gpuMemoryMiB ?? 81920),
            [gpuCountLabel]: String(s.gpus),
          },
        },
        status: {
          capacity: { cpu: "96", memory: "880Gi", pods: "110", [gpuResource]: String(s.gpus) },
        },
      } as Node);
      createdNodes.push(s.name);
    }),
  );
  await Promise.all(
    specs.map((s) =>
      until(`node ${s.name} to be Ready, untainted and in the extender's cache`, async () => {
        const n = await client.get<Node>(resources.nodes, s.name);
        const ready = n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
        const tainted = n.spec?.taints?.some((t) => t.effect === "NoSchedule");
        const cached = extender.cluster.view.node(s.name)?.gpus === s.gpus;
        return ready && !tainted && cached ? n : undefined;
      }),
    ),
  );
}

interface PodSpec {
  name: string;
  namespace: string;
  gpus: number;
  set: string;
  scheduler?: string;
  workspace?: string;
  plannedNodes?: string[];
  minGpuMemoryMiB?: number;
}

async function createPod(p: PodSpec): Promise<void> {
  const annotations: Record<string, string> = {};
  if (p.plannedNodes) annotations[plannedNodesAnnotation] = p.plannedNodes.join(",");
  if (p.minGpuMemoryMiB) annotations[minGpuMemoryAnnotation] = String(p.minGpuMemoryMiB);
  await client.create<Pod>(resources.pods, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: p.name,
      namespace: p.namespace,
      labels: p.workspace ? { [workspaceLabel]: p.workspace } : {},
      annotations,
    },
    spec: {
      schedulerName: p.scheduler ?? schedulerName,
      nodeSelector: { [setLabel]: p.set },
      containers: [
        {
          name: "model",
          image: "example/model:1",
          resources: {
            // What an inference server asks for besides GPUs: a share of the node's CPUs and memory,
            // which kube-scheduler's default scoring (LeastAllocated) spreads across nodes.
            requests: { cpu: String(Math.max(1, 6 * p.gpus)), memory: `${Math.max(4, 48 * p.gpus)}Gi` },
            limits: p.gpus > 0 ? { [gpuResource]: String(p.gpus) } : {},
          },
        },
      ],
    },
  });
}

/** The node the pod was bound to, or "pending" once kube-scheduler has found no node for it. */
async function placement(namespace: string, name: string): Promise<string> {
  return until(
    `pod ${namespace}/${name} to be scheduled`,
    async () => {
      const p = await client.get<Pod>(resources.pods, name, namespace);
      if (p.spec.nodeName) return p.spec.nodeName;
      const scheduled = p.status?.conditions?.find((c) => c.type === "PodScheduled");
      return scheduled?.status === "False" && scheduled.reason === "Unschedulable" ? "pending" : undefined;
    },
    60_000,
    100,
  );
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

beforeAll(async () => {
  client = new KubeClient(cluster.kubeConfig);
  extender = await startGpuExtender({
    client,
    registry,
    host: "127.0.0.1",
    port: 0,
  });
  await extender.cluster.synced;
  [names, fullNodes] = await Promise.all([
    startScheduler({
      kubeconfigPath: cluster.kubeconfigPath,
      config: { ...kubeSchedulerConfig({ url: extender.url }), profiles: [{ schedulerName }] },
    }),
    startScheduler({
      kubeconfigPath: cluster.kubeconfigPath,
      config: {
        ...kubeSchedulerConfig({ url: extender.url, nodeCacheCapable: false }),
        profiles: [{ schedulerName: fullNodesSchedulerName }],
      },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all(createdNodes.map((name) => client?.delete(resources.nodes, name).catch(() => undefined)));
  await Promise.all([names?.stop(), fullNodes?.stop()]);
  await extender?.close();
  client?.close();
});

describe("GPU extender with the real kube-scheduler", () => {
  it.each([
    ["node names (nodeCacheCapable)", "names"],
    ["full Node objects", "full"],
  ])(
    "places GPU pods on the nodes the planner chose, and keeps them off GPUs too small: %s",
    async (_, mode) => {
      const namespace = await cluster.newNamespace(`extender-plan-${mode}`);
      const set = `plan-${mode}-${run}`;
      const [scheduler, kubeScheduler] =
        mode === "names" ? [schedulerName, names] : [fullNodesSchedulerName, fullNodes];
      const binds = await metric("kaito_extender_requests_total", 'verb="bind",code="200"');
      const node = (suffix: string) => `${set}-${suffix}`;
      await createNodes([
        { name: node("a4"), set, gpus: 4 },
        { name: node("b8"), set, gpus: 8 },
        { name: node("c8"), set, gpus: 8 },
        { name: node("t4"), set, gpus: 8, gpuMemoryMiB: 15360, product: "Tesla-T4" },
      ]);

      // Best fit alone would put these 2-GPU replicas on the 4-GPU node; the planner chose c8.
      for (const i of [0, 1, 2]) {
        await createPod({
          name: `phi-${i}`,
          namespace,
          gpus: 2,
          set,
          scheduler,
          workspace: "phi",
          plannedNodes: [node("c8")],
          minGpuMemoryMiB: 40960,
        });
        expect(await placement(namespace, `phi-${i}`)).toBe(node("c8"));
      }
      // The planner's only choice is a T4, whose 15 GiB cannot hold this model: the filter rules it
      // out, c8 has 2 GPUs left, and best fit takes the 4-GPU node (none left over) over b8 (4 left).
      await createPod({
        name: "llama-0",
        namespace,
        gpus: 4,
        set,
        scheduler,
        workspace: "llama",
        plannedNodes: [node("t4")],
        minGpuMemoryMiB: 40960,
      });
      expect(await placement(namespace, "llama-0")).toBe(node("a4"));

      // The extender bound them itself (bindVerb), so its count was right for each next pod. The
      // pod shows its node as soon as the API server has stored the binding, a moment before the
      // extender hears back and counts it, so wait for the count rather than read it once.
      const bound = () => metric("kaito_extender_requests_total", 'verb="bind",code="200"');
      await until(
        "the extender to count its fourth bind",
        async () => ((await bound()) >= binds + 4 ? true : undefined),
        10_000,
        50,
      );
      expect(await bound()).toBe(binds + 4);
      // kube-scheduler understood every answer: it logs when it has to skip an ignorable extender.
      expect(readFileSync(kubeScheduler.logFile, "utf8")).not.toMatch(/Skipping extender/);
      expect(extender.cluster.view.gpusInUse(node("c8"))).toBe(6);
      expect(extender.cluster.view.workspaceReplicasOn(node("c8"), `${namespace}/phi`)).toBe(3);
    },
  );

  it("leaves fewer GPU nodes in use than kube-scheduler alone for the same pod stream", async () => {
    const namespace = await cluster.newNamespace("extender-frag");
    const arms = { alone: `alone-${run}`, extender: `ext-${run}` };
    const shape = [4, 4, 4, 4, 4, 4, 8, 8, 8, 8, 8, 8]; // 72 GPUs per arm
    const specs = Object.values(arms).flatMap((set) =>
      shape.map((gpus, i) => ({ name: `${set}-${gpus}g-${i}`, set, gpus })),
    );
    const capacity = new Map(specs.map((s) => [s.name, s.gpus]));
    await createNodes(specs);

    // A seeded stream of 1-, 2- and 4-GPU pods asking for about two thirds of the GPUs.
    const random = seededRandom(20260101);
    const sizes: number[] = [];
    for (let total = 0; total < 48;) {
      const r = random();
      const gpus = r < 0.4 ? 1 : r < 0.75 ? 2 : 4;
      sizes.push(gpus);
      total += gpus;
    }
    const placed = { alone: new Map<string, string>(), extender: new Map<string, string>() };
    for (const [i, gpus] of sizes.entries()) {
      // One pod at a time in each arm, both arms at once: the same stream, in the same order.
      await Promise.all(
        (["alone", "extender"] as const).map(async (arm) => {
          const name = `${arm}-${i}-${gpus}g`;
          await createPod({
            name,
            namespace,
            gpus,
            set: arms[arm],
            scheduler: arm === "alone" ? "default-scheduler" : schedulerName,
          });
          placed[arm].set(name, await placement(namespace, name));
        }),
      );
    }

    const summary = (arm: "alone" | "extender") => {
      const free = new Map([...capacity].filter(([name]) => name.startsWith(`${arms[arm]}-`)));
      let pending = 0;
      const used = new Set<string>();
      for (const [pod, node] of placed[arm]) {
        if (node === "pending") {
          pending++;
          continue;
        }
        used.add(node);
        free.set(node, free.get(node)! - Number(/-(\d+)g$/.exec(pod)![1]));
      }
      // The biggest pod that could still be placed: what fragmentation takes away.
      return { nodesInUse: used.size, pending, largestFreeBlock: Math.max(...free.values()) };
    };
    const alone = summary("alone");
    const withExtender = summary("extender");
    const total = sizes.reduce((a, b) => a + b);
    process.stderr.write(
      `extender fragmentation: ${sizes.length} pods (${sizes.join(",")}) = ${total} GPUs onto 6x4 + 6x8 GPUs ` +
        `per arm; kube-scheduler alone: ${alone.nodesInUse} nodes in use, largest free block ` +
        `${alone.largestFreeBlock} GPUs, ${alone.pending} pending; with the extender: ${withExtender.nodesInUse} ` +
        `nodes in use, largest free block ${withExtender.largestFreeBlock} GPUs, ${withExtender.pending} pending\n`,
    );
    expect(withExtender.pending).toBe(0);
    expect(withExtender.pending).toBeLessThanOrEqual(alone.pending);
    expect(withExtender.nodesInUse).toBeLessThan(alone.nodesInUse);
    expect(withExtender.largestFreeBlock).toBeGreaterThanOrEqual(alone.largestFreeBlock);
  }, 300_000);

  it("still schedules pods when the extender is down: CPU pods never reach it, GPU pods skip it", async () => {
    const namespace = await cluster.newNamespace("extender-down");
    const set = `down-${run}`;
    await createNodes([{ name: `${set}-8g`, set, gpus: 8 }]);
    await extender.close();

    await createPod({ name: "web", namespace, gpus: 0, set });
    expect(await placement(namespace, "web")).toBe(`${set}-8g`);
    await createPod({ name: "gpu", namespace, gpus: 2, set });
    expect(await placement(namespace, "gpu")).toBe(`${set}-8g`);
    expect(readFileSync(names.logFile, "utf8")).toMatch(/Skipping extender/);
  });
});
