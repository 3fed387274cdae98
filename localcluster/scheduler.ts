import { writeFileSync } from "node:fs";
import https from "node:https";
import path from "node:path";
import { stringify } from "yaml";
import { systemClock, type Clock } from "../lib/clock.ts";
import { scratchDirectory } from "../lib/exit-hooks.ts";
import { ensureBinaries } from "./binaries.ts";
import { schedulerArgs } from "./components.ts";
import { freePort } from "./ports.ts";
import { ManagedProcess } from "./processes.ts";

export interface SchedulerOptions {
  kubeconfigPath: string;
  /**
   * KubeSchedulerConfiguration fields (profiles, extenders, ...). clientConnection and
   * leaderElection are filled in: this kube-scheduler talks to `kubeconfigPath` and never
   * competes for the lease, so it can run beside the cluster's own.
   */
  config: Record<string, unknown>;
  /** The kube-scheduler binary; located or built like the local cluster's when absent. */
  binary?: string;
  clock?: Clock;
  startTimeoutMs?: number;
}

export interface RunningScheduler {
  readonly logFile: string;
  readonly port: number;
  logTail(lines?: number): string;
  /** Stops the process group and removes the temporary directory. */
  stop(): Promise<void>;
}

/**
 * Starts one more kube-scheduler against an existing cluster, e.g. a second profile with an
 * extender that pods opt into by spec.schedulerName. Resolves once it reports healthy.
 */
export async function startScheduler(options: SchedulerOptions): Promise<RunningScheduler> {
  const clock = options.clock ?? systemClock;
  const binary = options.binary ?? (await ensureBinaries({ log: () => {} }))["kube-scheduler"];
  const { dir, remove: removeDir } = scratchDirectory("kaito-scheduler-");
  let child: ManagedProcess | undefined;
  const stop = async () => {
    await child?.stop();
    removeDir();
  };
  try {
    const configFile = path.join(dir, "config.yaml");
    writeFileSync(
      configFile,
      stringify({
        apiVersion: "kubescheduler.config.k8s.io/v1",
        kind: "KubeSchedulerConfiguration",
        ...options.config,
        clientConnection: { kubeconfig: options.kubeconfigPath },
        leaderElection: { leaderElect: false },
      }),
    );
    const port = await freePort();
    const logFile = path.join(dir, "kube-scheduler.log");
    child = new ManagedProcess({
      name: "kube-scheduler",
      command: binary,
      args: schedulerArgs({ kubeconfig: options.kubeconfigPath, port, configFile }),
      logFile,
    });
    const running = child;
    const deadline = clock.now() + (options.startTimeoutMs ?? 60_000);
    while (!(await healthy(port))) {
      if (!running.running)
        throw new Error(`kube-scheduler exited during start-up; its log ends with:\n${running.logTail()}`);
      if (clock.now() > deadline)
        throw new Error(`kube-scheduler did not become healthy:\n${running.logTail()}`);
      await clock.sleep(100);
    }
    return { logFile, port, logTail: (lines) => running.logTail(lines), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** kube-scheduler serves /healthz on its secure port with a self-signed certificate. */
function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: "127.0.0.1", port, path: "/healthz", rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}
