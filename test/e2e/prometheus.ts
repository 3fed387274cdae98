// A real Prometheus (Debian's package) for tests: its own process group, loopback only, a
// temporary config and TSDB that go away with it.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { prometheusBinary } from "../../deploy/monitoring/tools.ts";
import { scratchDirectory } from "../../lib/exit-hooks.ts";
import { freePort } from "../../localcluster/ports.ts";
import { ManagedProcess } from "../../localcluster/processes.ts";

export interface ScrapeTarget {
  job: string;
  /** host:port serving /metrics. */
  address: string;
  /** A file holding the bearer token to scrape with (authorization.credentials_file). */
  credentialsFile?: string;
  /** Scrape over HTTPS without verifying the certificate (deploy/monitoring/README.md's config). */
  https?: boolean;
}

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RuleStatus {
  name: string;
  type: "recording" | "alerting";
  health: "ok" | "err" | "unknown";
  lastError?: string;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query at the current time; a scalar comes back as one sample without labels. */
  query(expr: string): Promise<Sample[]>;
  rules(): Promise<{ name: string; rules: RuleStatus[] }[]>;
  targets(): Promise<{ job: string; health: string; lastError: string }[]>;
  logTail(lines?: number): string;
  /** Stops the process group and removes the temporary directory. */
  stop(): Promise<void>;
}

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== "success") throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

export async function startPrometheus(o: {
  targets: ScrapeTarget[];
  ruleFiles: string[];
  /** Scrape and rule evaluation interval (default 1s, so a test sees data within seconds). */
  interval?: string;
  startTimeoutMs?: number;
}): Promise<RunningPrometheus> {
  const binary = prometheusBinary("prometheus");
  const { dir, remove: removeDir } = scratchDirectory("kaito-prometheus-");
  let child: ManagedProcess | undefined;
  const stop = async () => {
    await child?.stop();
    removeDir();
  };
  try {
    const interval = o.interval ?? "1s";
    const configFile = path.join(dir, "prometheus.yml");
    writeFileSync(
      configFile,
      stringify({
        global: { scrape_interval: interval, evaluation_interval: interval },
        rule_files: o.ruleFiles,
        scrape_configs: o.targets.map((t) => ({
          job_name: t.job,
          static_configs: [{ targets: [t.address] }],
          ...(t.credentialsFile ? { authorization: { credentials_file: t.credentialsFile } } : {}),
          ...(t.https ? { scheme: "https", tls_config: { insecure_skip_verify: true } } : {}),
        })),
      }),
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    child = new ManagedProcess({
      name: "prometheus",
      command: binary,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      logFile: path.join(dir, "prometheus.log"),
    });
    const running = child;
    const deadline = Date.now() + (o.startTimeoutMs ?? 30_000);
    for (;;) {
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (!running.running)
        throw new Error(`prometheus exited during start-up; its log ends with:\n${running.logTail()}`);
      if (Date.now() > deadline) throw new Error(`prometheus did not become ready:\n${running.logTail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      url,
      async query(expr) {
        const data = await api<{ resultType: string; result: unknown }>(
          `${url}/api/v1/query?query=${encodeURIComponent(expr)}`,
        );
        if (data.resultType === "scalar") {
          const [, v] = data.result as [number, string];
          return [{ metric: {}, value: Number(v) }];
        }
        return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
          metric: s.metric,
          value: Number(s.value[1]),
        }));
      },
      async rules() {
        return (await api<{ groups: { name: string; rules: RuleStatus[] }[] }>(`${url}/api/v1/rules`)).groups;
      },
      async targets() {
        const data = await api<{
          activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
        }>(`${url}/api/v1/targets`);
        return data.activeTargets.map((t) => ({
          job: t.labels.job ?? "",
          health: t.health,
          lastError: t.lastError,
        }));
      },
      logTail: (lines) => running.logTail(lines),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
