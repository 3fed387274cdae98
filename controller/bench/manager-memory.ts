// npm run bench:manager-memory [-- --nodes 5000 --pods 50000 --compare DIR]
//
// The manager's memory in a big cluster it does not own, against the same manager in an empty
// one, in one run on one cluster. The cluster is etcd and kube-apiserver only (no scheduler, no
// controller manager, no kwok), so nothing touches the objects created straight through the API:
// N nodes as kubelets register them on AKS (labels, conditions, addresses, node info, 30 images)
// and M pods of ordinary Deployments bound to them (probes, env, resources, the service-account
// volume admission adds), plus Deployments and Services of their own, none of them kaito's. Each
// measurement is a fresh manager process (controller/bench/memory-probe.ts): every component,
// heap and RSS once /readyz says its caches have listed, after forced garbage collection.
// `--compare DIR` measures another checkout of this repository the same way (e.g. the code
// before a change), in the same run.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "5000" },
    pods: { type: "string", default: "50000" },
    deployments: { type: "string", default: "1000" },
    compare: { type: "string" },
  },
});
const nodeCount = Number(values.nodes);
const podCount = Number(values.pods);
const deploymentCount = Number(values.deployments);
const repo = path.resolve(import.meta.dirname, "../..");
const log = (line: string) => process.stderr.write(`${line}\n`);
const namespaces = Array.from({ length: 50 }, (_, i) => `team-${i}`);

interface Memory {
  heapUsed: number;
  heapTotal: number;
  rss: number;
  idleRss: number;
  external: number;
  peakRss: number;
  syncSeconds: number;
}

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const nodeName = (i: number) =>
  `aks-pool${i % 10}-${String(10_000_000 + i)}-vmss${i.toString(36).padStart(6, "0")}`;

/** A node as the kubelet registers it on an AKS user pool. */
function node(i: number): KubeObject {
  const name = nodeName(i);
  const time = "2026-11-30T08:00:00Z";
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
    reason,
    message,
  });
  return {
    metadata: {
      name,
      labels: {
        agentpool: `pool${i % 10}`,
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": "Standard_D8s_v5",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.azure.com/agentpool": `pool${i % 10}`,
        "kubernetes.azure.com/cluster": "MC_rg_big_eastus",
        "kubernetes.azure.com/mode": "user",
        "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202611.20.0",
        "kubernetes.azure.com/os-sku": "Ubuntu",
        "kubernetes.azure.com/role": "agent",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "Standard_D8s_v5",
        "topology.disk.csi.azure.com/zone": `eastus-${(i % 3) + 1}`,
        "topology.kubernetes.io/region": "eastus",
        "topology.kubernetes.io/zone": `eastus-${(i % 3) + 1}`,
      },
      annotations: {
        "csi.volume.kubernetes.io/nodeid": JSON.stringify({
          "disk.csi.azure.com": name,
          "file.csi.azure.com": name,
        }),
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
      },
    },
    spec: {
      providerID: `azure:///subscriptions/${randomUUID()}/resourceGroups/mc_rg_big_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-pool${i % 10}-vmss/virtualMachines/${i}`,
      podCIDR: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
      podCIDRs: [`10.${(i >> 8) & 255}.${i & 255}.0/24`],
    },
    status: {
      capacity: {
        cpu: "8",
        "ephemeral-storage": "129886128Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: "32864040Ki",
        pods: "110",
      },
      allocatable: {
        cpu: "7820m",
        "ephemeral-storage": "119703055367",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        memory: "28382504Ki",
        pods: "110",
      },
      conditions: [
        condition("KernelDeadlock", "False", "KernelHasNoDeadlock", "kernel has no deadlock"),
        condition(
          "FrequentContainerdRestart",
          "False",
          "NoFrequentContainerdRestart",
          "containerd is functioning properly",
        ),
        condition("FilesystemCorruptionProblem", "False", "FilesystemIsOK", "Filesystem is healthy"),
        condition("KubeletProblem", "False", "KubeletIsUp", "kubelet service is up"),
        condition(
          "MemoryPressure",
          "False",
          "KubeletHasSufficientMemory",
          "kubelet has sufficient memory available",
        ),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: `10.224.${(i >> 8) & 255}.${i & 255}` },
        { type: "Hostname", address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: randomUUID().replaceAll("-", ""),
        systemUUID: randomUUID(),
        bootID: randomUUID(),
        kernelVersion: "5.15.0-1075-azure",
        osImage: "Ubuntu 22.04.5 LTS",
        containerRuntimeVersion: "containerd://1.7.23-1",
        kubeletVersion: "v1.37.2",
        kubeProxyVersion: "v1.37.2",
        operatingSystem: "linux",
        architecture: "amd64",
      },
      images: Array.from({ length: 30 }, (_, k) => ({
        names: [
          `mcr.microsoft.com/oss/kubernetes/image-${k}@sha256:${randomUUID().replaceAll("-", "")}${randomUUID().replaceAll("-", "")}`,
          `mcr.microsoft.com/oss/kubernetes/image-${k}:v1.${k}.0`,
        ],
        sizeBytes: 20_000_000 + k * 1_000_003,
      })),
    },
  } as KubeObject;
}

/** A pod of an ordinary Deployment, bound to a node. */
function pod(i: number): KubeObject {
  const app = `app-${i % deploymentCount}`;
  const namespace = namespaces[i % namespaces.length]!;
  return {
    metadata: {
      name: `${app}-6d4cf56db6-${i.toString(36).padStart(5, "0")}`,
      namespace,
      labels: {
        app,
        "app.kubernetes.io/name": app,
        "app.kubernetes.io/part-of": "shop",
        "pod-template-hash": "6d4cf56db6",
      },
      annotations: { "kubectl.kubernetes.io/restartedAt": "2026-11-30T08:00:00Z" },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${app}-6d4cf56db6`,
          uid: randomUUID(),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      nodeName: nodeName(i % nodeCount),
      containers: [
        {
          name: "app",
          image: `registry.example.com/shop/${app}:1.4.${i % 7}`,
          ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
          env: [
            { name: "PORT", value: "8080" },
            { name: "LOG_LEVEL", value: "info" },
            { name: "OTEL_EXPORTER_OTLP_ENDPOINT", value: "http://otel-collector.observability:4317" },
            { name: "DATABASE_HOST", value: "postgres.data.svc.cluster.local" },
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          ],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
          readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 10 },
          livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 20 },
          volumeMounts: [{ name: "config", mountPath: "/etc/app" }],
        },
      ],
      volumes: [{ name: "config", configMap: { name: `${app}-config` } }],
    },
  } as KubeObject;
}

function deployment(i: number): KubeObject {
  const app = `app-${i}`;
  return {
    metadata: { name: app, namespace: namespaces[i % namespaces.length], labels: { app } },
    spec: {
      replicas: Math.max(1, Math.round(podCount / deploymentCount)),
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { containers: [{ name: "app", image: `registry.example.com/shop/${app}:1.4.0` }] },
      },
    },
  } as KubeObject;
}

function service(i: number): KubeObject {
  const app = `app-${i}`;
  return {
    metadata: { name: app, namespace: namespaces[i % namespaces.length], labels: { app } },
    spec: { selector: { app }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
  } as KubeObject;
}

function probe(kubeconfig: string, checkout: string): Promise<Memory> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      path.join(repo, "node_modules/.bin/node"),
      [
        "--expose-gc",
        path.join(repo, "controller/bench/memory-probe.ts"),
        "--kubeconfig",
        kubeconfig,
        "--repo",
        checkout,
      ],
      { cwd: checkout, stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1)!) as Memory)
        : reject(new Error(`memory probe exited ${code}`)),
    );
  });
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

const cluster = await startLocalCluster({
  crdDir: path.join(repo, "crds"),
  controllerManager: false,
  scheduler: false,
  kwok: false,
  log,
});
const client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }), {
  maxSockets: 64,
  rateLimit: false,
  timeoutMs: 120_000,
});
try {
  const checkouts = [{ name: "this checkout", dir: repo }];
  if (values.compare)
    checkouts.push({ name: path.basename(path.resolve(values.compare)), dir: path.resolve(values.compare) });
  const empty = new Map<string, Memory>();
  for (const c of checkouts) {
    log(`empty cluster: measuring ${c.name}`);
    empty.set(c.name, await probe(cluster.kubeconfigPath, c.dir));
  }

  const loadStart = performance.now();
  // No controller manager runs: the namespaces' default ServiceAccounts, which pod admission
  // needs, are made here.
  for (const ns of namespaces) {
    await client.create(resources.namespaces, { metadata: { name: ns } } as KubeObject);
    await client.create(resources.serviceAccounts, {
      metadata: { name: "default", namespace: ns },
    } as KubeObject);
  }
  log(`loading ${nodeCount} nodes, ${podCount} pods, ${deploymentCount} Deployments and Services`);
  await pool([...Array(nodeCount).keys()], 48, (i) => client.create(resources.nodes, node(i)));
  await pool([...Array(deploymentCount).keys()], 48, async (i) => {
    await client.create(resources.deployments, deployment(i));
    await client.create(resources.services, service(i));
  });
  let done = 0;
  await pool([...Array(podCount).keys()], 48, async (i) => {
    await client.create(resources.pods, pod(i));
    if (++done % 10_000 === 0) log(`  ${done} pods`);
  });
  const loadSeconds = (performance.now() - loadStart) / 1000;
  log(`loaded in ${loadSeconds.toFixed(0)} s`);

  const loaded = new Map<string, Memory>();
  for (const c of checkouts) {
    log(`loaded cluster: measuring ${c.name}`);
    loaded.set(c.name, await probe(cluster.kubeconfigPath, c.dir));
  }

  process.stdout.write(
    `\nmanager memory benchmark: Node ${process.version}, ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}\n` +
      `cluster: ${nodeCount} nodes, ${podCount} pods, ${deploymentCount} Deployments and ${deploymentCount} Services, none of them kaito's (loaded in ${loadSeconds.toFixed(0)} s)\n` +
      `each figure: a fresh manager with every component, after its caches listed and garbage collection was forced\n\n` +
      `| checkout | heap empty | heap loaded | heap ratio | RSS empty | RSS loaded | RSS ratio | RSS loaded, 10 s idle | V8 heap committed, loaded | external, loaded | peak RSS loaded | caches listed in |\n` +
      `|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n`,
  );
  for (const c of checkouts) {
    const e = empty.get(c.name)!;
    const l = loaded.get(c.name)!;
    process.stdout.write(
      `| ${c.name} | ${mib(e.heapUsed)} | ${mib(l.heapUsed)} | ${(l.heapUsed / e.heapUsed).toFixed(2)}× | ${mib(e.rss)} | ${mib(l.rss)} | ${(l.rss / e.rss).toFixed(2)}× | ${mib(l.idleRss)} | ${mib(l.heapTotal)} | ${mib(l.external)} | ${mib(l.peakRss)} | ${l.syncSeconds.toFixed(1)} s |\n`,
    );
  }
} finally {
  client.close();
  await cluster.stop();
}
