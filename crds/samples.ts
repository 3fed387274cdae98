/**
 * Valid Workspaces and InferenceSets drawn at random (from a seed) over every optional field the
 * schemas declare, with a status for each: the round-trip test writes them in one served version
 * and reads them in the other (test/integration/crds.test.ts), so a field one version dropped
 * would show. Deterministic for a seed, so a failure names an object that can be made again.
 */
import type { JsonObject } from "./merge-patch.ts";
import { inferenceSetKind } from "./inferenceset/constants.ts";
import type { InferenceSet, InferenceSetStatus } from "./inferenceset/types.ts";
import { workspaceGroup, workspaceKind, workspaceStates } from "./workspace/constants.ts";
import type {
  AdapterSpec,
  InferenceSpec,
  PresetSpec,
  Workspace,
  WorkspaceStatus,
} from "./workspace/types.ts";

/** mulberry32: small, seedable, good enough to pick among options. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Draw {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed);
  }
  chance(p = 0.5): boolean {
    return this.next() < p;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** `value` half the time, else undefined (so the key is left out). */
  maybe<T>(value: () => T, p = 0.5): T | undefined {
    return this.chance(p) ? value() : undefined;
  }
}

/** Drops undefined values, so optional fields are absent rather than null. */
function compact<T extends object>(o: T): T {
  return JSON.parse(JSON.stringify(o)) as T;
}

const models = ["phi-3-mini-4k-instruct", "mistral-7b-instruct", "gpt-oss-20b", "Qwen/Qwen3-8B"];
const sizes = ["Standard_NC6s_v3", "Standard_NC24ads_A100_v4", "Standard_NC12s_v3"];

function preset(d: Draw, i: number): PresetSpec {
  const accessMode = d.pick(["public", "private", undefined] as const);
  const options = {
    image:
      accessMode === "private" || d.chance(0.3) ? `myregistry.azurecr.io/model-${i}:0.0.${i}` : undefined,
    imagePullSecrets: d.maybe(() => [`pull-${i}`]),
    modelAccessSecret: d.maybe(() => `hf-token-${i}`),
  };
  return {
    name: d.pick(models),
    ...(accessMode ? { accessMode } : {}),
    ...(Object.values(options).some((v) => v !== undefined) ? { presetOptions: options } : {}),
  };
}

function adapters(d: Draw, i: number): AdapterSpec[] {
  return Array.from({ length: d.int(1, 3) }, (_, k) => ({
    source: {
      name: `adapter-${i}-${k}`,
      image: `myregistry.azurecr.io/adapter-${k}:0.0.${i}`,
      imagePullSecrets: d.maybe(() => ["pull"]),
    },
    strength: d.maybe(() => d.pick(["0.5", "1.0", ".25", "1"])),
  }));
}

function inference(d: Draw, i: number): InferenceSpec {
  if (d.chance(0.15)) {
    return {
      template: {
        metadata: { labels: { custom: `t${i}` } },
        spec: {
          containers: [
            {
              name: "model",
              image: `example.com/model:${i}`,
              resources: { limits: { "nvidia.com/gpu": 1 } },
            },
          ],
        },
      },
    };
  }
  return {
    preset: preset(d, i),
    config: d.maybe(() => `inference-params-${i}`),
    adapters: d.maybe(() => adapters(d, i), 0.3),
  };
}

function condition<T extends string>(type: T, d: Draw) {
  return {
    type,
    status: d.pick(["True", "False", "Unknown"] as const),
    reason: d.pick(["NodesReady", "WaitingForNodes", "InvalidSpec"]),
    message: "drawn by crds/samples.ts",
    lastTransitionTime: "2026-01-01T00:00:00Z",
    observedGeneration: 1,
  };
}

function workspaceStatus(d: Draw, i: number): WorkspaceStatus {
  return compact({
    conditions: (["ResourceReady", "InferenceReady", "WorkspaceReady"] as const).map((t) => condition(t, d)),
    workerNodes: [`gpu-${i}`],
    instanceType: d.pick(sizes),
    nodeCount: d.int(0, 3),
    machines: d.maybe(() => [`ws${i}abc`]),
    costPerHour: d.maybe(() => "3.673"),
    failedInstanceTypes: d.maybe(() => ["Standard_NC96ads_A100_v4"], 0.2),
    placement: d.maybe(() => ({
      instanceType: d.pick(sizes),
      replicas: 1,
      gpusPerPod: d.pick([1, 2]),
      nodesPerReplica: 1,
      newNodes: 1,
      existingNodes: [],
    })),
    observedGeneration: 1,
    state: d.pick(workspaceStates),
    targetNodeCount: d.maybe(() => d.int(1, 4)),
    performance: d.maybe(() => ({
      metrics: {
        peakTokensPerMinute: {
          description: "stress/high-concurrency",
          value: String(d.int(1000, 90000)),
          unit: "tokens/min",
          config: { concurrency: "64" },
        },
      },
    })),
  });
}

/** The `i`th Workspace of `seed`, written as kaito.sh/`version`; its status is set separately. */
export function sampleWorkspace(
  seed: number,
  i: number,
  version: string,
): { object: JsonObject; status: JsonObject } {
  const d = new Draw(seed * 7919 + i);
  const labels = { apps: `sample-${i}`, ...(d.chance(0.3) ? { tier: "gpu" } : {}) };
  const tuning = d.chance(0.25);
  const partition = !tuning && d.chance(0.2);
  const ws: Workspace = {
    apiVersion: `${workspaceGroup}/${version}`,
    kind: workspaceKind,
    metadata: compact({
      name: `sample-${seed}-${i}`,
      labels: d.maybe(() => ({ team: `t${i}` })),
      annotations: d.maybe(() => ({ "kaito.sh/runtime": d.pick(["vllm", "transformers"]) })),
    }),
    resource: compact({
      instanceType: partition ? undefined : d.maybe(() => d.pick(sizes), 0.7),
      count: tuning ? d.maybe(() => 1) : d.maybe(() => d.int(1, 3)),
      labelSelector: d.chance(0.8)
        ? { matchLabels: labels }
        : { matchExpressions: [{ key: "apps", operator: "In" as const, values: [`sample-${i}`] }] },
      preferredNodes: d.maybe(() => [`gpu-${i}-a`, `gpu-${i}-b`], 0.3),
      partition: partition ? { mode: "mig" as const, profile: d.pick(["1g.10gb", "3g.40gb"]) } : undefined,
    }),
    ...(tuning
      ? {
          tuning: compact({
            preset: { name: d.pick(["phi-3-mini-4k-instruct", "mistral-7b"]) },
            method: d.pick(["lora", "qlora"] as const),
            config: d.maybe(() => `tuning-params-${i}`),
            input: d.chance()
              ? { urls: [`https://example.com/data-${i}.parquet`], name: d.maybe(() => `data-${i}`) }
              : { image: `myregistry.azurecr.io/data:${i}`, imagePullSecrets: d.maybe(() => ["pull"]) },
            output: d.chance()
              ? { image: `myregistry.azurecr.io/out:${i}`, imagePushSecret: "push" }
              : { volumeSource: { persistentVolumeClaim: { claimName: `out-${i}` } } },
          }),
        }
      : { inference: compact(inference(d, i)) }),
  };
  return {
    object: compact(ws) as unknown as JsonObject,
    status: workspaceStatus(d, i) as unknown as JsonObject,
  };
}

/** The `i`th InferenceSet of `seed`, written as kaito.sh/`version`. */
export function sampleInferenceSet(
  seed: number,
  i: number,
  version: string,
): { object: JsonObject; status: JsonObject } {
  const d = new Draw(seed * 104729 + i);
  const set: InferenceSet = {
    apiVersion: `${workspaceGroup}/${version}`,
    kind: inferenceSetKind,
    metadata: { name: `sample-set-${seed}-${i}` },
    spec: compact({
      replicas: d.maybe(() => d.int(0, 5), 0.8),
      labelSelector: { matchLabels: { apps: `set-${i}` } },
      template: compact({
        metadata: d.maybe(() => ({ labels: { team: "a" }, annotations: { "kaito.sh/runtime": "vllm" } })),
        resource: d.maybe(() => ({ instanceType: d.pick(sizes) }), 0.7),
        inference: compact(inference(d, i)),
      }),
      nodeCountLimit: d.maybe(() => d.int(1, 8)),
      updateStrategy: d.maybe(() => ({
        type: "RollingUpdate" as const,
        rollingUpdate: { maxUnavailable: d.pick([1, 2, "25%"] as (number | string)[]) },
      })),
      autoUpgrade: d.maybe(
        () => ({
          enabled: d.chance(),
          strategy: d.pick(["InPlace", "Surge"] as const),
          maintenanceWindow: { schedule: "0 2 * * 6", duration: "4h" },
        }),
        0.3,
      ),
    }),
  };
  const status: InferenceSetStatus = compact({
    replicas: d.int(0, 5),
    readyReplicas: d.int(0, 5),
    selector: `inferenceset.kaito.sh/created-by=${set.metadata!.name}`,
    conditions: [condition("InferenceSetReady" as const, d)],
    nodeCount: d.maybe(() => d.int(0, 5)),
    observedGeneration: 1,
  });
  return { object: compact(set) as unknown as JsonObject, status: status as unknown as JsonObject };
}
