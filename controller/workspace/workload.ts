import { createHash } from "node:crypto";
import type { V1Deployment, V1Job, V1PodTemplateSpec, V1StatefulSet } from "@kubernetes/client-node";
import { runtimeAnnotation, type Workspace } from "../../crds/index.ts";
import {
  contract,
  inferenceRuntime,
  runtimeFromAnnotation,
  tuningRuntime,
  type GpuInfo,
} from "../../presets/index.ts";
import { findSku } from "../../planner/catalog/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import type { Informer } from "../../kube/informer.ts";
import { ignoreNotFound } from "../../kube/errors.ts";
import { resources as api, type Resource } from "../../kube/resources.ts";
import type { Placement } from "./placement.ts";
import type { ModelNeed } from "./requirement.ts";
import {
  customPodTemplate,
  headlessService,
  inferenceDeployment,
  inferencePodTemplate,
  inferenceService,
  inferenceStatefulSets,
  tuningJob,
} from "./workloads.ts";
import { headlessServiceName, leaderStatefulSetName, workerStatefulSetName, workloadName } from "./naming.ts";
import { ensureConfigMap, trainingOutputDir } from "./configmaps.ts";
import { assertNotForeign } from "./ownership.ts";

/** The GPU of the placement's instance type, from the catalogue; undefined for an unlisted size. */
export function gpuOf(instanceType: string): GpuInfo | undefined {
  const sku = findSku(instanceType);
  return sku && { memoryGiB: sku.gpuMemoryGiB, computeCapability: sku.computeCapability };
}

export const specHashAnnotation = "kaito.sh/spec-hash";
const fieldManager = "kaito-workspace-controller";

/** What the API server puts in spec.schedulerName when a pod names none. */
export const defaultSchedulerName = "default-scheduler";

/**
 * The pods go to the scheduler that calls the GPU extender: the cluster's own where it is wired
 * in (`kaito up`), or the kaito-scheduler beside it (deploy/scheduler). A user's own template
 * keeps the scheduler it names.
 */
function scheduledBy(template: V1PodTemplateSpec, schedulerName: string): V1PodTemplateSpec {
  return { ...template, spec: { schedulerName, ...template.spec! } };
}

/** A cache the workload is read from by `namespace/name`. */
type Cache<T extends KubeObject> = Pick<Informer<T>, "get">;

export interface WorkloadCaches {
  deployments: Cache<V1Deployment & KubeObject>;
  statefulSets: Cache<V1StatefulSet & KubeObject>;
  jobs: Cache<V1Job & KubeObject>;
  services: Cache<KubeObject>;
}

type Named = { metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> } };

function withHash<T extends Named>(obj: T): T {
  const hash = createHash("sha256").update(JSON.stringify(obj)).digest("hex").slice(0, 16);
  return {
    ...obj,
    metadata: { ...obj.metadata, annotations: { ...obj.metadata?.annotations, [specHashAnnotation]: hash } },
  };
}

/**
 * Server-side applies the object unless the cached copy already carries the same spec hash: an
 * unchanged workspace costs no write, a changed one rolls out through the apply. The apply
 * forces, so it must never meet an object someone else made: without a cached copy, the name is
 * checked first (ForeignObjectError).
 */
async function apply<T extends Named>(
  client: KubeClient,
  resource: Resource,
  cache: Cache<KubeObject>,
  desired: T,
  ws: Workspace,
): Promise<boolean> {
  const obj = withHash(desired);
  const key = `${obj.metadata!.namespace}/${obj.metadata!.name}`;
  const cached = cache.get(key);
  if (cached?.metadata?.annotations?.[specHashAnnotation] === obj.metadata!.annotations![specHashAnnotation])
    return false;
  if (!cached) await assertNotForeign(client, resource, ws, obj.metadata!.name!);
  await client.patch(resource, obj.metadata!.name!, obj.metadata!.namespace, obj, "apply", {
    fieldManager,
    force: true,
  });
  return true;
}

async function remove(
  client: KubeClient,
  resource: Resource,
  cache: Cache<KubeObject>,
  ws: Workspace,
  name: string,
) {
  if (cache.get(`${ws.metadata!.namespace}/${name}`))
    await client
      .delete(resource, name, ws.metadata!.namespace, { propagationPolicy: "Background" })
      .catch(ignoreNotFound);
}

/**
 * Ready pods of a StatefulSet once its controller has seen the current spec and every pod runs
 * it; 0 before, so a rollout does not count the pods it is about to replace.
 */
function rolledOut(sts: V1StatefulSet | undefined, replicas: number): number {
  const status = sts?.status;
  if (!status || status.observedGeneration !== sts.metadata?.generation) return 0;
  return (status.updatedReplicas ?? 0) >= replicas ? (status.readyReplicas ?? 0) : 0;
}

export type WorkloadState =
  | { kind: "inference"; ready: number; wanted: number; applied: boolean }
  | { kind: "tuning"; started: boolean; succeeded: boolean; failed: boolean; applied: boolean };

/** Applies the workload for the placement on `nodes` and reports how far it has come. */
export async function reconcileWorkload(
  ws: Workspace,
  need: ModelNeed,
  placement: Placement,
  nodes: string[],
  client: KubeClient,
  caches: WorkloadCaches,
  schedulerName: string,
): Promise<WorkloadState> {
  const name = workloadName(ws);
  const key = `${ws.metadata!.namespace}/${name}`;
  const c = caches as unknown as Record<keyof WorkloadCaches, Cache<KubeObject>>;
  if (ws.tuning) {
    if (need.kind !== "preset") throw new Error("tuning always has a preset");
    const method = ws.tuning.method ?? "lora";
    const config = await ensureConfigMap(
      client,
      ws,
      ws.tuning.config,
      contract.DEFAULT_TUNING_CONFIGMAP[method],
      contract.TRAINING_CONFIG_KEY,
      "tuning.config",
    );
    const runtime = tuningRuntime(need.preset, method, {
      gpus: placement.gpusPerPod,
      outputDir: trainingOutputDir(config),
      image: ws.tuning.preset?.presetOptions?.image,
    });
    const desired = tuningJob(ws, runtime, nodes);
    desired.spec!.template = scheduledBy(desired.spec!.template, schedulerName);
    const applied = await apply(client, api.jobs, c.jobs, desired, ws);
    const job = caches.jobs.get(key);
    const conditions = job?.status?.conditions ?? [];
    return {
      kind: "tuning",
      applied,
      started:
        !!job?.status?.startTime || (job?.status?.active ?? 0) > 0 || (job?.status?.succeeded ?? 0) > 0,
      succeeded: conditions.some((x) => x.type === "Complete" && x.status === "True"),
      failed: conditions.some((x) => x.type === "Failed" && x.status === "True"),
    };
  }
  let built: V1PodTemplateSpec;
  if (need.kind === "preset") {
    const runtime = inferenceRuntime(need.preset, {
      runtime: runtimeFromAnnotation(ws.metadata?.annotations?.[runtimeAnnotation]),
      gpus: placement.gpusPerPod,
      nodes: placement.nodesPerReplica,
      image: ws.inference?.preset?.presetOptions?.image,
      gpu: gpuOf(placement.instanceType),
      adapters: (ws.inference?.adapters ?? []).map((a) => ({
        name: a.source!.name!,
        strength: a.strength ?? "1.0",
      })),
    });
    if (runtime.config)
      await ensureConfigMap(
        client,
        ws,
        ws.inference?.config,
        runtime.config.defaultConfigMap,
        runtime.config.key,
        "inference.config",
      );
    built = inferencePodTemplate(ws, placement, runtime, nodes, need.requirement.minGpuMemoryGiB);
  } else {
    built = customPodTemplate(ws, nodes);
  }
  // Before the StatefulSets copy it, so leaders and workers go to the same scheduler.
  const template = scheduledBy(built, schedulerName);
  const multiNode = placement.nodesPerReplica > 1;
  let applied = await apply(client, api.services, c.services, inferenceService(ws, multiNode), ws);
  if (multiNode) {
    applied = (await apply(client, api.services, c.services, headlessService(ws), ws)) || applied;
    for (const sts of inferenceStatefulSets(ws, placement, template))
      applied = (await apply(client, api.statefulSets, c.statefulSets, sts, ws)) || applied;
    await remove(client, api.deployments, c.deployments, ws, name);
    // Earlier versions ran a multi-node replica as one StatefulSet named after the workspace;
    // left running, its pods would hold the GPUs the leaders and workers need.
    await remove(client, api.statefulSets, c.statefulSets, ws, name);
    const ns = ws.metadata!.namespace;
    const leaders = rolledOut(
      caches.statefulSets.get(`${ns}/${leaderStatefulSetName(ws)}`),
      placement.replicas,
    );
    const workers = rolledOut(
      caches.statefulSets.get(`${ns}/${workerStatefulSetName(ws)}`),
      placement.replicas * (placement.nodesPerReplica - 1),
    );
    // A replica is ready when its leader and its workers are. Counts per role cannot say which
    // replica a ready pod belongs to, so this is an upper bound, exact once all are ready.
    const ready = Math.min(leaders, Math.floor(workers / (placement.nodesPerReplica - 1)));
    return { kind: "inference", applied, wanted: placement.replicas, ready };
  }
  applied =
    (await apply(
      client,
      api.deployments,
      c.deployments,
      inferenceDeployment(ws, placement.replicas, template),
      ws,
    )) || applied;
  for (const sts of [name, leaderStatefulSetName(ws), workerStatefulSetName(ws)])
    await remove(client, api.statefulSets, c.statefulSets, ws, sts);
  await remove(client, api.services, c.services, ws, headlessServiceName(ws));
  const deployment = caches.deployments.get(key);
  // Ready only once the controller has seen the current template and every replica runs it.
  const current =
    deployment?.status?.observedGeneration === deployment?.metadata?.generation &&
    (deployment?.status?.updatedReplicas ?? 0) >= placement.replicas;
  return {
    kind: "inference",
    applied,
    wanted: placement.replicas,
    ready: current ? (deployment?.status?.readyReplicas ?? 0) : 0,
  };
}
