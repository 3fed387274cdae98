import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { systemClock, type Clock } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import { scratchDirectory } from "../lib/exit-hooks.ts";
import { ensureBinaries, type BinaryPaths, type ComponentName } from "./binaries.ts";
import { apiServerArgs, controllerManagerArgs, etcdArgs, kwokArgs, schedulerArgs } from "./components.ts";
import { kubeconfigYaml, writeCredentials } from "./credentials.ts";
import { installCrds, readCrds } from "./crds.ts";
import { apiRequest, type ApiTarget } from "./http.ts";
import { freePort } from "./ports.ts";
import { ManagedProcess, type ProcessSpec } from "./processes.ts";

export interface LocalClusterOptions {
  /** Resolved binaries; when absent they are located or built (scripts/control-plane-binaries.sh). */
  binaries?: BinaryPaths;
  /** Which components besides etcd and kube-apiserver to run (default: all). */
  controllerManager?: boolean;
  scheduler?: boolean;
  kwok?: boolean;
  /** Directory of CRD manifests to install and wait for. */
  crdDir?: string;
  /** Extra fields merged into the KubeSchedulerConfiguration, e.g. `{ extenders: [...] }`. */
  schedulerConfig?: Record<string, unknown>;
  /** kube-apiserver's port (default: a free one). */
  apiServerPort?: number;
  /** Where the kubeconfig is also written, besides the cluster's own directory. */
  kubeconfigPath?: string;
  log?: (line: string) => void;
  clock?: Clock;
  startTimeoutMs?: number;
}

export interface LocalCluster {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly kubeconfigPath: string;
  readonly kubeconfig: string;
  readonly caPem: string;
  readonly adminToken: string;
  /** The temporary directory holding data, certificates and logs; removed by stop(). */
  readonly dir: string;
  /** Process-group ids of the running components. */
  processes(): { name: ComponentName; pid: number; logFile: string }[];
  /** Stops and starts one component with the same flags (e.g. to prove a client survives). */
  restart(name: ComponentName): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts etcd, kube-apiserver and (by default) kube-controller-manager, kube-scheduler and kwok on
 * free loopback ports, waits until the API server is ready and the CRDs are served, and returns a
 * handle whose stop() removes every process and file it created, also when start-up fails half-way.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? 120_000;
  const binaries = options.binaries ?? (await ensureBinaries({ log }));
  const { dir, remove: removeDir } = scratchDirectory("kaito-cluster-");
  const running = new Map<ComponentName, { spec: ProcessSpec; process: ManagedProcess }>();

  const stop = async () => {
    // Reverse start order: clients first, etcd last, so nothing logs a storm of errors.
    for (const entry of [...running.values()].reverse()) await entry.process.stop();
    running.clear();
    removeDir();
  };

  const launch = (name: ComponentName, args: string[]) => {
    const spec: ProcessSpec = {
      name,
      command: binaries[name],
      args,
      logFile: path.join(dir, "logs", `${name}.log`),
    };
    running.set(name, { spec, process: new ManagedProcess(spec) });
  };

  try {
    mkdirSync(path.join(dir, "logs"));
    mkdirSync(path.join(dir, "pki"));
    const creds = writeCredentials(path.join(dir, "pki"));
    const [etcdClient, etcdPeer, apiPort, cmPort, schedPort, kwokPort] = await Promise.all([
      freePort(),
      freePort(),
      options.apiServerPort ?? freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    launch("etcd", etcdArgs(path.join(dir, "etcd"), { client: etcdClient, peer: etcdPeer }));
    const certDir = path.join(dir, "pki", "serving");
    launch(
      "kube-apiserver",
      apiServerArgs({
        etcdPort: etcdClient,
        port: apiPort,
        certDir,
        tokenFile: creds.tokenFile,
        serviceAccountPublicKey: creds.serviceAccountPublicKey,
        serviceAccountPrivateKey: creds.serviceAccountPrivateKey,
      }),
    );
    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = path.join(certDir, "apiserver.crt");
    const deadline = clock.now() + timeoutMs;
    await waitFor(
      () => "kube-apiserver to write its serving certificate",
      () => existsSync(caFile),
      deadline,
      clock,
      running,
    );
    const caPem = readFileSync(caFile, "utf8");
    const target: ApiTarget = { server, caPem, token: creds.adminToken };
    await waitForApiServer(target, deadline, clock, running);
    log(`control-plane: kube-apiserver ready at ${server}`);

    const kubeconfig = kubeconfigYaml({ server, caPem, token: creds.adminToken });
    const kubeconfigPath = path.join(dir, "kubeconfig");
    writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
    if (options.kubeconfigPath) {
      mkdirSync(path.dirname(options.kubeconfigPath), { recursive: true });
      writeFileSync(options.kubeconfigPath, kubeconfig, { mode: 0o600 });
    }

    if (options.controllerManager ?? true) {
      launch(
        "kube-controller-manager",
        controllerManagerArgs({
          kubeconfig: kubeconfigPath,
          port: cmPort,
          serviceAccountPrivateKey: creds.serviceAccountPrivateKey,
          rootCaFile: caFile,
        }),
      );
    }
    if (options.scheduler ?? true) {
      const configFile = path.join(dir, "scheduler-config.yaml");
      writeFileSync(configFile, schedulerConfiguration(kubeconfigPath, options.schedulerConfig));
      launch("kube-scheduler", schedulerArgs({ kubeconfig: kubeconfigPath, port: schedPort, configFile }));
    }
    if (options.kwok ?? true) {
      const configFile = path.join(dir, "kwok.yaml");
      writeFileSync(configFile, kwokConfiguration());
      launch("kwok", kwokArgs({ kubeconfig: kubeconfigPath, port: kwokPort, configFile }));
    }
    if (options.crdDir)
      await installCrds(target, readCrds(options.crdDir), clock, Math.max(1000, deadline - clock.now()));
    if (options.controllerManager ?? true) {
      // Pods are refused until the namespace's default ServiceAccount exists.
      await waitForOk(target, "/api/v1/namespaces/default/serviceaccounts/default", deadline, clock, running);
    }
    assertAlive(running);

    return {
      server,
      kubeconfigPath,
      kubeconfig,
      caPem,
      adminToken: creds.adminToken,
      dir,
      processes: () =>
        [...running.entries()].map(([name, e]) => ({ name, pid: e.process.pid, logFile: e.process.logFile })),
      async restart(name) {
        const entry = running.get(name);
        if (!entry) throw new Error(`${name} is not running in this cluster`);
        await entry.process.stop();
        entry.process = new ManagedProcess(entry.spec);
        if (name === "kube-apiserver")
          await waitForApiServer(target, clock.now() + timeoutMs, clock, running);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

function schedulerConfiguration(kubeconfig: string, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "kubescheduler.config.k8s.io/v1",
    kind: "KubeSchedulerConfiguration",
    clientConnection: { kubeconfig },
    leaderElection: { leaderElect: false },
    ...extra,
  });
}

const kwokStagesFile = path.resolve(import.meta.dirname, "kwok-stages.yaml");

function kwokConfiguration(): string {
  // An explicit configuration, so a ~/.kwok/kwok.yaml on the machine cannot change how the local
  // cluster behaves, followed by our stages.
  const options = stringify({
    apiVersion: "config.kwok.x-k8s.io/v1alpha1",
    kind: "KwokConfiguration",
    // With a configuration file kwok applies no defaults, so the parallelism is spelled out.
    options: {
      enableCNI: false,
      nodeLeaseDurationSeconds: 40,
      nodeLeaseParallelism: 4,
      nodePlayStageParallelism: 4,
      podPlayStageParallelism: 4,
      podsOnNodeSyncParallelism: 2,
    },
  });
  return `${options}---\n${readFileSync(kwokStagesFile, "utf8")}`;
}

type Running = Map<ComponentName, { process: ManagedProcess }>;

function assertAlive(running: Running): void {
  for (const [name, { process }] of running) {
    if (!process.running)
      throw new Error(`${name} exited during start-up; its log ends with:\n${process.logTail()}`);
  }
}

async function waitFor(
  what: () => string,
  ready: () => boolean | Promise<boolean>,
  deadline: number,
  clock: Clock,
  running: Running,
) {
  for (;;) {
    assertAlive(running);
    if (await ready()) return;
    if (clock.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await clock.sleep(100);
  }
}

async function waitForOk(
  target: ApiTarget,
  urlPath: string,
  deadline: number,
  clock: Clock,
  running: Running,
) {
  let last = "";
  await waitFor(
    () => `GET ${urlPath} (last: ${last || "no answer"})`,
    async () => {
      try {
        const res = await apiRequest(target, "GET", urlPath, undefined, undefined, 5_000);
        last = `HTTP ${res.status}`;
        return res.status === 200;
      } catch (e) {
        last = errorMessage(e);
        return false;
      }
    },
    deadline,
    clock,
    running,
  );
}

async function waitForApiServer(target: ApiTarget, deadline: number, clock: Clock, running: Running) {
  await waitForOk(target, "/readyz", deadline, clock, running);
  await waitForOk(target, "/api/v1/namespaces/default", deadline, clock, running);
}
