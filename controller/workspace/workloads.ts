import type {
  V1Container,
  V1Deployment,
  V1EnvVar,
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
import {
  enableLoadBalancerAnnotation,
  workspaceApiVersion,
  workspaceKind,
  workspaceLabel,
  type Workspace,
} from "../../crds/index.ts";
import type { HttpProbe, RuntimeSpec, TuningRuntimeSpec } from "../../presets/runtime/spec.ts";
import { DISTRIBUTED_PORT, DISTRIBUTED_PORT_NAME, SERVICE_PORT } from "../../presets/runtime/spec.ts";
import {
  ADAPTERS_DIR,
  CONFIG_DIR,
  DATA_DIR,
  DOWNLOADER_IMAGE,
  DOWNLOADER_SCRIPT,
  PROBES,
  PULL_AUTH_DIR,
  PULLER_IMAGE,
  PULLER_SCRIPT,
  PUSH_AUTH_FILE,
  PUSHER_IMAGE,
  PUSHER_SCRIPT,
} from "../../presets/runtime/contract.ts";
import { launchEnv, type ReplicaRole } from "../../presets/runtime/multinode.ts";
import { gpuTaint, nodeLabelsFor } from "./machines.ts";
import { headlessServiceName, leaderStatefulSetName, workerStatefulSetName, workloadName } from "./naming.ts";
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

/**
 * Pods go only to nodes with the workspace's labels and, once known, to the nodes planned for it,
 * by node name (a field, not the `kubernetes.io/hostname` label: Karpenter and clouds may name a
 * node otherwise than its hostname label says). A field selector takes one name per term, and
 * terms are ORed: one term per planned node, each with the labels.
 */
function nodeAffinity(ws: Workspace, nodes: readonly string[]): V1PodSpec["affinity"] {
  const expressions = Object.entries(nodeLabelsFor(ws)).map(([key, value]) => ({
    key,
    operator: "In",
    values: [value],
  }));
  const terms =
    nodes.length > 0
      ? [...nodes].sort().map((n) => ({
          matchExpressions: expressions,
          matchFields: [{ key: "metadata.name", operator: "In", values: [n] }],
        }))
      : [{ matchExpressions: expressions }];
  return { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } };
}

/**
 * The runtime's container. `modelAccessSecret` (presetOptions) becomes HF_TOKEN, read from the
 * Secret by the kubelet: the token never passes through the operator or the pod spec.
 */
function runtimeContainer(
  name: string,
  spec: RuntimeSpec,
  mounts: V1VolumeMount[],
  modelAccessSecret?: string,
): V1Container {
  const gpu = { "nvidia.com/gpu": String(spec.gpus) };
  const token: V1EnvVar[] = modelAccessSecret
    ? [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: modelAccessSecret, key: "HF_TOKEN" } } }]
    : [];
  const container: V1Container = {
    name,
    image: spec.image,
    command: [...spec.command],
    args: [...spec.args],
    env: [...spec.env.map((e) => ({ name: e.name, value: e.value })), ...token],
    ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort })),
    resources: { requests: gpu, limits: gpu },
    volumeMounts: mounts,
  };
  if (spec.readinessProbe) {
    container.readinessProbe = httpProbe(spec.readinessProbe);
    // Loading weights takes minutes: the startup probe gives it that long before liveness applies.
    container.startupProbe = {
      httpGet: { path: spec.readinessProbe.path, port: spec.readinessProbe.port },
      periodSeconds: PROBES.startupPeriodSeconds,
      failureThreshold: Math.max(1, Math.ceil(spec.startupTimeoutSeconds / PROBES.startupPeriodSeconds)),
    };
  }
  if (spec.livenessProbe) container.livenessProbe = httpProbe(spec.livenessProbe);
  return container;
}

function httpProbe(p: HttpProbe): NonNullable<V1Container["readinessProbe"]> {
  return {
    httpGet: { path: p.path, port: p.port },
    periodSeconds: p.periodSeconds,
    ...(p.initialDelaySeconds !== undefined ? { initialDelaySeconds: p.initialDelaySeconds } : {}),
    ...(p.failureThreshold !== undefined ? { failureThreshold: p.failureThreshold } : {}),
  };
}

/** A DNS label from a name that may hold dots (volume and container names allow none). */
function label(prefix: string, name: string): string {
  return `${prefix}-${name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 63)
    .replace(/-+$/, "");
}

/**
 * Registry credentials for a puller: each image pull secret's .dockerconfigjson as
 * PULL_AUTH_DIR/<secret>.json, one projected volume per puller.
 */
function pullAuth(volumeName: string, secrets: readonly string[] | undefined) {
  if (!secrets?.length) return undefined;
  const volume: V1Volume = {
    name: volumeName,
    projected: {
      sources: secrets.map((name) => ({
        secret: { name, items: [{ key: ".dockerconfigjson", path: `${name}.json` }] },
      })),
    },
  };
  return { volume, mount: { name: volumeName, mountPath: PULL_AUTH_DIR, readOnly: true } };
}

/**
 * An init container that unpacks an image's /data into `dest` without running the image, so
 * adapter and dataset images may be FROM scratch (contract.ts PULLER_SCRIPT).
 */
function pullerContainer(name: string, image: string, dest: string, mounts: V1VolumeMount[]): V1Container {
  return {
    name,
    image: PULLER_IMAGE,
    command: ["/bin/sh", "-c", PULLER_SCRIPT, "kaito-pull", image, dest, PULL_AUTH_DIR],
    volumeMounts: mounts,
  };
}

/** The ConfigMap the runtime's config file comes from, mounted at CONFIG_DIR. */
function configVolume(name: string): { volume: V1Volume; mount: V1VolumeMount } {
  return {
    volume: { name: "config", configMap: { name } },
    mount: { name: "config", mountPath: CONFIG_DIR, readOnly: true },
  };
}

const sharedMemory: V1Volume = { name: "dshm", emptyDir: { medium: "Memory" } };
const sharedMemoryMount: V1VolumeMount = { name: "dshm", mountPath: "/dev/shm" };

function secretRefs(names: (string | undefined)[]): { name: string }[] {
  return [...new Set(names.filter((n): n is string => !!n))].map((name) => ({ name }));
}

export const adapterDir = ADAPTERS_DIR;

/**
 * The inference pod: the preset's runtime, its config file (inference.config or the default
 * ConfigMap) for vLLM, adapters unpacked by puller init containers, GPU placement.
 */
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
  if (runtime.config) {
    const config = configVolume(inference.config ?? runtime.config.defaultConfigMap);
    volumes.push(config.volume);
    mounts.push(config.mount);
  }
  const initContainers: V1Container[] = [];
  if (adapters.length > 0) {
    const adaptersMount: V1VolumeMount = { name: "adapters", mountPath: ADAPTERS_DIR };
    volumes.push({ name: "adapters", emptyDir: {} });
    mounts.push(adaptersMount);
    adapters.forEach((a, i) => {
      const name = a.source!.name!;
      const auth = pullAuth(label(`adapter-auth-${i}`, name), a.source!.imagePullSecrets);
      if (auth) volumes.push(auth.volume);
      initContainers.push(
        pullerContainer(label(`puller-${i}`, name), a.source!.image!, `${ADAPTERS_DIR}/${name}`, [
          adaptersMount,
          ...(auth ? [auth.mount] : []),
        ]),
      );
    });
  }
  const container = runtimeContainer(
    "model",
    runtime,
    mounts,
    inference.preset?.presetOptions?.modelAccessSecret,
  );
  const pullSecrets = secretRefs(inference.preset?.presetOptions?.imagePullSecrets ?? []);
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

/** Tells the leader of a multi-node replica, which serves HTTP, from its workers. */
export const replicaRoleLabel = "kaito.sh/replica-role";

/*
 * Only leaders may receive traffic, and a Service tells pods apart only by labels, which a
 * StatefulSet copies from one template to every pod. The one per-pod label it adds,
 * apps.kubernetes.io/pod-index (beta in Kubernetes 1.28, unconditional in v1.37, whose feature
 * gate is gone), names one ordinal, and a Service selector is a plain map: it can pick the leader
 * of one replica (index 0) but not the leaders 0, N, 2N... of several. Failing the workers'
 * readiness does not help either: readiness is per pod, not per port, so a worker ready for the
 * StatefulSet is ready behind port 80 too, and one never ready would stall every rolling update
 * (and kwok, which plays the pods locally, marks every pod ready whatever its probes say).
 *
 * So leaders and workers are two StatefulSets with two templates and two labels, the shape of the
 * LeaderWorkerSet API: the leader StatefulSet has one pod per replica (ordinal = replica), the
 * worker StatefulSet N-1 per replica. The Service selects the leader label, which holds for any
 * number of replicas, on any Kubernetes version, and under kwok. Both share the headless Service,
 * which publishes not-ready pods so workers can resolve a leader that is still loading. On a real
 * cluster a leader turns ready once its /health answers, which needs its whole group formed and
 * the model loaded; workers carry no probe and are ready while they run: the leader's /health
 * speaks for the group.
 */

function withEnv(container: V1Container, vars: V1EnvVar[]): V1EnvVar[] {
  const names = new Set(vars.map((v) => v.name));
  return [...(container.env ?? []).filter((e) => !names.has(e.name)), ...vars];
}

function replicaStatefulSet(
  ws: Workspace,
  placement: Placement,
  template: V1PodTemplateSpec,
  role: ReplicaRole,
): Owned<V1StatefulSet> {
  const t = structuredClone(template);
  const labels = { [workspaceLabel]: ws.metadata!.name!, [replicaRoleLabel]: role };
  t.metadata = { ...t.metadata, labels: { ...t.metadata?.labels, ...labels } };
  const container = t.spec!.containers[0]!;
  container.env = withEnv(container, [
    { name: launchEnv.role, value: role },
    { name: launchEnv.nodes, value: String(placement.nodesPerReplica) },
    { name: launchEnv.leaders, value: leaderStatefulSetName(ws) },
    { name: launchEnv.headlessService, value: headlessServiceName(ws) },
    { name: launchEnv.podName, valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: launchEnv.namespace, valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  ]);
  if (role === "worker") {
    // A worker answers no /health, and without a container port named "http" no Service
    // could send it port-80 traffic even if its selector matched: the Service targets "http".
    delete container.ports;
    delete container.readinessProbe;
    delete container.startupProbe;
    delete container.livenessProbe;
  }
  const perReplica = role === "leader" ? 1 : placement.nodesPerReplica - 1;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: objectMeta(ws, role === "leader" ? leaderStatefulSetName(ws) : workerStatefulSetName(ws)),
    spec: {
      replicas: placement.replicas * perReplica,
      serviceName: headlessServiceName(ws),
      // A leader is ready only once its workers have joined: starting pods one at a time, each
      // after the previous one is ready, would serialise every replica's start-up.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: labels },
      template: t,
    },
  };
}

/** Replicas spanning several nodes: their leaders, then their workers (see above). */
export function inferenceStatefulSets(
  ws: Workspace,
  placement: Placement,
  template: V1PodTemplateSpec,
): [leaders: Owned<V1StatefulSet>, workers: Owned<V1StatefulSet>] {
  return [
    replicaStatefulSet(ws, placement, template, "leader"),
    replicaStatefulSet(ws, placement, template, "worker"),
  ];
}

export function inferenceService(ws: Workspace, multiNode: boolean): Owned<V1Service> {
  const ports: V1ServicePort[] = [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }];
  const podSelector: Record<string, string> = { ...selector(ws).matchLabels };
  if (multiNode) {
    ports.push({
      name: DISTRIBUTED_PORT_NAME,
      port: DISTRIBUTED_PORT,
      targetPort: DISTRIBUTED_PORT,
      protocol: "TCP",
    });
    podSelector[replicaRoleLabel] = "leader";
  }
  // KAITO's test hook for reaching a workspace from outside the cluster.
  const loadBalancer = ws.metadata?.annotations?.[enableLoadBalancerAnnotation] === "True";
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: objectMeta(ws),
    spec: { type: loadBalancer ? "LoadBalancer" : "ClusterIP", selector: podSelector, ports },
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
      ports: [{ name: DISTRIBUTED_PORT_NAME, port: DISTRIBUTED_PORT, protocol: "TCP" }],
    },
  };
}

/**
 * The tuning Job, laid out as KAITO's fine_tuning.py expects (presets/runtime/contract.ts): the
 * config ConfigMap (tuning.config, or the method's default) at /mnt/config, the input under
 * /mnt/data with the names that tell the loader its format (downloaded, unpacked from an image
 * without running it, or a volume), and the results volume at the config's output_dir. With an
 * output image the trainer runs as an init container and the pusher after it, so the pusher
 * sees the trainer's outcome instead of waiting for a marker a failed run never writes; the push
 * secret is mounted as a file, never put in the environment or the arguments.
 */
export function tuningJob(ws: Workspace, runtime: TuningRuntimeSpec, nodes: readonly string[]): Owned<V1Job> {
  const tuning = ws.tuning!;
  const input = tuning.input ?? {};
  const output = tuning.output ?? {};
  const dataMount: V1VolumeMount = { name: "data", mountPath: DATA_DIR };
  const volumes: V1Volume[] = [
    {
      name: "data",
      ...(input.volumeSource ? (input.volumeSource as Omit<V1Volume, "name">) : { emptyDir: {} }),
    },
  ];
  const mounts: V1VolumeMount[] = [dataMount];
  const initContainers: V1Container[] = [];
  if (input.urls?.length) {
    initContainers.push({
      name: input.name ?? "data-downloader",
      image: DOWNLOADER_IMAGE,
      command: ["/bin/sh", "-c", DOWNLOADER_SCRIPT, "kaito-download", DATA_DIR, ...input.urls],
      volumeMounts: [dataMount],
    });
  } else if (input.image) {
    const auth = pullAuth("input-auth", input.imagePullSecrets);
    if (auth) volumes.push(auth.volume);
    initContainers.push(
      pullerContainer(input.name ?? "data-puller", input.image, DATA_DIR, [
        dataMount,
        ...(auth ? [auth.mount] : []),
      ]),
    );
  }
  const resultsMount: V1VolumeMount = { name: "results", mountPath: runtime.outputDir };
  volumes.push({
    name: "results",
    ...(output.volumeSource ? (output.volumeSource as Omit<V1Volume, "name">) : { emptyDir: {} }),
  });
  mounts.push(resultsMount);
  const config = configVolume(tuning.config ?? runtime.config.defaultConfigMap);
  volumes.push(config.volume);
  mounts.push(config.mount);
  if (runtime.sharedMemory || runtime.gpus > 1) {
    volumes.push(sharedMemory);
    mounts.push(sharedMemoryMount);
  }
  const tuner = runtimeContainer("tuner", runtime, mounts, tuning.preset?.presetOptions?.modelAccessSecret);
  const containers: V1Container[] = [];
  if (output.image) {
    initContainers.push(tuner);
    const pushDir = PUSH_AUTH_FILE.slice(0, PUSH_AUTH_FILE.lastIndexOf("/"));
    volumes.push({
      name: "push-secret",
      secret: {
        secretName: output.imagePushSecret!,
        items: [{ key: ".dockerconfigjson", path: PUSH_AUTH_FILE.slice(pushDir.length + 1) }],
      },
    });
    containers.push({
      name: "pusher",
      image: PUSHER_IMAGE,
      command: [
        "/bin/sh",
        "-c",
        PUSHER_SCRIPT,
        "kaito-push",
        runtime.outputDir,
        output.image,
        tuning.preset!.name,
        PUSH_AUTH_FILE,
      ],
      volumeMounts: [
        { ...resultsMount, readOnly: true },
        { name: "push-secret", mountPath: pushDir, readOnly: true },
      ],
    });
  } else {
    containers.push(tuner);
  }
  const pullSecrets = secretRefs(tuning.preset?.presetOptions?.imagePullSecrets ?? []);
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
          ...(initContainers.length ? { initContainers } : {}),
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
