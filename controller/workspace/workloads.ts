import type {
  V1Container,
  V1Deployment,
  V1Job,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Service,
  V1ServicePort,
  V1StatefulSet,
  V1Toleration,
  V1Volume,
  V1VolumeMount,
} from "@kubernetes/client-node";
import { workspaceApiVersion, workspaceKind, workspaceLabel, type Workspace } from "../../crds/index.ts";
import type { RuntimeSpec, TuningRuntimeSpec } from "../../presets/runtime/spec.ts";
import { DISTRIBUTED_PORT, SERVICE_PORT } from "../../presets/runtime/spec.ts";
import { gpuTaint, nodeLabelsFor } from "./machines.ts";
import { headlessServiceName, workloadName } from "./naming.ts";
import type { Placement } from "./placement.ts";

/** The extender's contract (scheduler/): the nodes the planner chose, and the per-GPU memory the model needs. */
export const plannedNodesAnnotation = "kaito.sh/planned-nodes";
export const minGpuMemoryAnnotation = "kaito.sh/min-gpu-memory-mib";

type Owned<T> = T & { apiVersion: string; kind: string };

function ownerReference(ws: Workspace) {
  return {
    apiVersion: workspaceApiVersion,
    kind: workspaceKind,
    name: ws.metadata!.name!,
    uid: ws.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function objectMeta(ws: Workspace, name = workloadName(ws)) {
  return {
    name,
    namespace: ws.metadata!.namespace!,
    labels: { [workspaceLabel]: ws.metadata!.name! },
    ownerReferences: [ownerReference(ws)],
  };
}

const tolerations: V1Toleration[] = [
  { ...gpuTaint, operator: "Equal" },
  { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
];

/** Pods go only to nodes with the workspace's labels and, once known, to the nodes planned for it. */
function nodeAffinity(ws: Workspace, nodes: readonly string[]): V1PodSpec["affinity"] {
  const expressions = Object.entries(nodeLabelsFor(ws)).map(([key, value]) => ({
    key,
    operator: "In",
    values: [value],
  }));
  if (nodes.length > 0)
    expressions.push({ key: "kubernetes.io/hostname", operator: "In", values: [...nodes].sort() });
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: expressions }],
      },
    },
  };
}

function runtimeContainer(name: string, spec: RuntimeSpec, mounts: V1VolumeMount[]): V1Container {
  const gpu = { "nvidia.com/gpu": String(spec.gpus) };
  const container: V1Container = {
    name,
    image: spec.image,
    command: [...spec.command],
    args: [...spec.args],
    env: spec.env.map((e) => ({ name: e.name, value: e.value })),
    ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort })),
    resources: { requests: gpu, limits: gpu },
    volumeMounts: mounts,
  };
  if (spec.readinessProbe) {
    const probe = { httpGet: { path: spec.readinessProbe.path, port: spec.readinessProbe.port } };
    container.readinessProbe = { ...probe, periodSeconds: spec.readinessProbe.periodSeconds };
    // Loading weights takes minutes: the startup probe gives it that long before liveness applies.
    container.startupProbe = {
      ...probe,
      periodSeconds: 10,
      failureThreshold: Math.max(1, Math.ceil(spec.startupTimeoutSeconds / 10)),
    };
  }
  return container;
}

const sharedMemory: V1Volume = { name: "dshm", emptyDir: { medium: "Memory" } };
const sharedMemoryMount: V1VolumeMount = { name: "dshm", mountPath: "/dev/shm" };

function secretRefs(names: (string | undefined)[]): { name: string }[] {
  return [...new Set(names.filter((n): n is string => !!n))].map((name) => ({ name }));
}

export const adapterDir = "/mnt/adapter";

/** The inference pod: the preset's runtime, adapters copied in by init containers, GPU placement. */
export function inferencePodTemplate(
  ws: Workspace,
  placement: Placement,
  runtime: RuntimeSpec,
  nodes: readonly string[],
  minGpuMemoryGiB: number,
): V1PodTemplateSpec {
  const inference = ws.inference!;
  const adapters = inference.adapters ?? [];
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (runtime.sharedMemory || placement.gpusPerPod > 1) {
    volumes.push(sharedMemory);
    mounts.push(sharedMemoryMount);
  }
  if (inference.config) {
    volumes.push({ name: "config", configMap: { name: inference.config } });
    mounts.push({ name: "config", mountPath: "/mnt/config", readOnly: true });
  }
  const initContainers: V1Container[] = [];
  const container = runtimeContainer("model", runtime, mounts);
  if (adapters.length > 0) {
    volumes.push({ name: "adapters", emptyDir: {} });
    mounts.push({ name: "adapters", mountPath: adapterDir });
    for (const a of adapters) {
      const name = a.source!.name!;
      initContainers.push({
        name: `adapter-${name}`.slice(0, 63),
        image: a.source!.image!,
        command: ["/bin/sh", "-c", `mkdir -p ${adapterDir}/${name} && cp -r /data/. ${adapterDir}/${name}/`],
        volumeMounts: [{ name: "adapters", mountPath: adapterDir }],
      });
    }
    // Each adapter's strength scales its LoRA weights when the server merges it.
    container.env = [
      ...(container.env ?? []),
      { name: "KAITO_ADAPTERS_DIR", value: adapterDir },
      {
        name: "KAITO_ADAPTER_STRENGTHS",
        value: adapters.map((a) => `${a.source!.name}=${a.strength ?? "1.0"}`).join(","),
      },
    ];
    container.args = [
      ...(container.args ?? []),
      "--enable-lora",
      "--lora-modules",
      ...adapters.map((a) => `${a.source!.name}=${adapterDir}/${a.source!.name}`),
    ];
  }
  const pullSecrets = secretRefs([
    ...(inference.preset?.presetOptions?.imagePullSecrets ?? []),
    ...adapters.flatMap((a) => a.source?.imagePullSecrets ?? []),
  ]);
  return {
    metadata: {
      labels: { [workspaceLabel]: ws.metadata!.name! },
      annotations: {
        [plannedNodesAnnotation]: [...nodes].sort().join(","),
        [minGpuMemoryAnnotation]: String(Math.ceil(minGpuMemoryGiB * 1024)),
      },
    },
    spec: {
      containers: [container],
      ...(initContainers.length ? { initContainers } : {}),
      ...(volumes.length ? { volumes } : {}),
      ...(pullSecrets.length ? { imagePullSecrets: pullSecrets } : {}),
      tolerations,
      affinity: nodeAffinity(ws, nodes),
      // A replaced pod must not wait for the old one's GPU longer than needed.
      terminationGracePeriodSeconds: 30,
    },
  };
}

/** A user's own pod template (inference.template): kept as sent, placed on the workspace's nodes. */
export function customPodTemplate(ws: Workspace, nodes: readonly string[]): V1PodTemplateSpec {
  const template = structuredClone(ws.inference!.template!) as V1PodTemplateSpec;
  template.metadata = {
    ...template.metadata,
    labels: { ...template.metadata?.labels, [workspaceLabel]: ws.metadata!.name! },
  };
  template.spec = {
    ...template.spec!,
    tolerations: [...(template.spec?.tolerations ?? []), ...tolerations],
    affinity: { ...template.spec?.affinity, ...nodeAffinity(ws, nodes) },
  };
  return template;
}

const selector = (ws: Workspace) => ({ matchLabels: { [workspaceLabel]: ws.metadata!.name! } });

export function inferenceDeployment(
  ws: Workspace,
  replicas: number,
  template: V1PodTemplateSpec,
): Owned<V1Deployment> {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: objectMeta(ws),
    spec: {
      replicas,
      selector: selector(ws),
      // GPU nodes are sized to the replicas: a surge pod would have nowhere to go.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
      template,
    },
  };
}

/**
 * A replica spanning several nodes: one pod per node, ranks from the pod ordinal, rendezvous at
 * the first pod of each group through the headless Service.
 */
export function inferenceStatefulSet(
  ws: Workspace,
  placement: Placement,
  template: V1PodTemplateSpec,
): Owned<V1StatefulSet> {
  const t = structuredClone(template);
  const container = t.spec!.containers[0]!;
  container.env = [
    ...(container.env ?? []),
    { name: "KAITO_NODES_PER_REPLICA", value: String(placement.nodesPerReplica) },
    { name: "KAITO_HEADLESS_SERVICE", value: headlessServiceName(ws) },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ];
  container.ports = [...(container.ports ?? []), { name: "torchrun", containerPort: DISTRIBUTED_PORT }];
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: objectMeta(ws),
    spec: {
      replicas: placement.replicas * placement.nodesPerReplica,
      serviceName: headlessServiceName(ws),
      podManagementPolicy: "Parallel",
      selector: selector(ws),
      template: t,
    },
  };
}

export function inferenceService(ws: Workspace, multiNode: boolean): Owned<V1Service> {
  const ports: V1ServicePort[] = [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }];
  if (multiNode)
    ports.push({ name: "torchrun", port: DISTRIBUTED_PORT, targetPort: DISTRIBUTED_PORT, protocol: "TCP" });
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: objectMeta(ws),
    spec: { type: "ClusterIP", selector: selector(ws).matchLabels, ports },
  };
}

export function headlessService(ws: Workspace): Owned<V1Service> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: objectMeta(ws, headlessServiceName(ws)),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: selector(ws).matchLabels,
      ports: [{ name: "torchrun", port: DISTRIBUTED_PORT, protocol: "TCP" }],
    },
  };
}

const dataDir = "/mnt/data";

/**
 * The tuning Job: input fetched by an init container (URLs, an image's /data) or mounted (a
 * volume), the method's trainer, and the result pushed as an image with the push secret, which
 * is mounted as a file and never put in the environment or the arguments.
 */
export function tuningJob(ws: Workspace, runtime: TuningRuntimeSpec, nodes: readonly string[]): Owned<V1Job> {
  const tuning = ws.tuning!;
  const input = tuning.input ?? {};
  const output = tuning.output ?? {};
  const volumes: V1Volume[] = [
    {
      name: "data",
      ...(input.volumeSource ? (input.volumeSource as Omit<V1Volume, "name">) : { emptyDir: {} }),
    },
  ];
  const mounts: V1VolumeMount[] = [{ name: "data", mountPath: dataDir }];
  const initContainers: V1Container[] = [];
  if (input.urls?.length) {
    initContainers.push({
      name: input.name ?? "data-downloader",
      image: "curlimages/curl:8.11.1",
      command: ["/bin/sh", "-c"],
      args: [
        input.urls.map((u, i) => `curl -sSfL -o ${dataDir}/input-${i} ${JSON.stringify(u)}`).join(" && "),
      ],
      volumeMounts: [{ name: "data", mountPath: dataDir }],
    });
  } else if (input.image) {
    initContainers.push({
      name: input.name ?? "data-extractor",
      image: input.image,
      command: ["/bin/sh", "-c", `cp -r /data/. ${dataDir}/`],
      volumeMounts: [{ name: "data", mountPath: dataDir }],
    });
  }
  const resultsMount: V1VolumeMount = { name: "results", mountPath: runtime.outputDir };
  volumes.push({
    name: "results",
    ...(output.volumeSource ? (output.volumeSource as Omit<V1Volume, "name">) : { emptyDir: {} }),
  });
  mounts.push(resultsMount);
  if (tuning.config) {
    volumes.push({ name: "config", configMap: { name: tuning.config } });
    mounts.push({ name: "config", mountPath: runtime.configFile.replace(/\/[^/]*$/, ""), readOnly: true });
  }
  if (runtime.sharedMemory || runtime.gpus > 1) {
    volumes.push(sharedMemory);
    mounts.push(sharedMemoryMount);
  }
  const containers: V1Container[] = [runtimeContainer("tuner", runtime, mounts)];
  if (output.image) {
    volumes.push({
      name: "push-secret",
      secret: {
        secretName: output.imagePushSecret!,
        items: [{ key: ".dockerconfigjson", path: "config.json" }],
      },
    });
    containers.push({
      name: "results-pusher",
      image: "ghcr.io/oras-project/oras:v1.2.2",
      command: ["/bin/sh", "-c"],
      args: [
        `until [ -f ${runtime.outputDir}/.done ]; do sleep 10; done; cd ${runtime.outputDir} && oras push --registry-config /etc/kaito/push/config.json ${JSON.stringify(output.image)} .`,
      ],
      volumeMounts: [resultsMount, { name: "push-secret", mountPath: "/etc/kaito/push", readOnly: true }],
    });
  }
  const pullSecrets = secretRefs([
    ...(tuning.preset?.presetOptions?.imagePullSecrets ?? []),
    ...(input.imagePullSecrets ?? []),
  ]);
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: objectMeta(ws),
    spec: {
      backoffLimit: 3,
      template: {
        metadata: { labels: { [workspaceLabel]: ws.metadata!.name! } },
        spec: {
          restartPolicy: "Never",
          initContainers: initContainers.length ? initContainers : undefined,
          containers,
          volumes,
          ...(pullSecrets.length ? { imagePullSecrets: pullSecrets } : {}),
          tolerations,
          affinity: nodeAffinity(ws, nodes),
        },
      },
    },
  };
}
