import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureBinaries } from "../../localcluster/binaries.ts";
import { startLocalCluster } from "../../localcluster/cluster.ts";
import { groupAlive } from "../../localcluster/processes.ts";

const repo = path.resolve(import.meta.dirname, "../..");
const clusterDirs = () => new Set(readdirSync(os.tmpdir()).filter((d) => d.startsWith("kaito-cluster-")));
const scratch = mkdtempSync(path.join(os.tmpdir(), "kaito-teardown-test-"));
/** The `kaito up` under test: if the test fails or times out before its SIGINT, it gets one here. */
let up: ChildProcess | undefined;
afterAll(async () => {
  if (up && up.exitCode === null && up.signalCode === null) {
    const exited = new Promise((resolve) => up!.once("exit", resolve));
    up.kill("SIGINT");
    const timer = setTimeout(() => up!.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(scratch, { recursive: true, force: true });
}, 60_000);

async function waitGone(pids: number[], timeoutMs = 15_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(groupAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    alive = alive.filter(groupAlive);
  }
  return alive;
}

describe("local cluster teardown", () => {
  it("removes every process and its directory when start-up fails half-way", async () => {
    const before = clusterDirs();
    const binaries = await ensureBinaries();
    // kwok that dies at once: start-up must notice, fail, and clean up what it had started.
    const failing = startLocalCluster({
      binaries: { ...binaries, kwok: "/bin/false" },
      crdDir: path.join(repo, "crds"),
    });
    await expect(failing).rejects.toThrow(/kwok exited during start-up/);
    const leftovers = [...clusterDirs()].filter((d) => !before.has(d));
    expect(leftovers).toEqual([]);
  });

  it("kaito up leaves no process, temp directory or state file after SIGINT", async () => {
    const before = clusterDirs();
    const stateDir = path.join(scratch, "state");
    const child = (up = spawn(
      path.join(repo, "node_modules/.bin/node"),
      [
        "cli/main.ts",
        "up",
        "--state-dir",
        stateDir,
        ...["metrics", "health-probe", "planner", "extender", "webhook"].flatMap((f) => [
          `--${f}-bind-address`,
          "127.0.0.1:0",
        ]),
      ],
      {
        cwd: repo,
        stdio: ["ignore", "pipe", "pipe"],
      },
    ));
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const readyLine = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        stdout += d.toString();
        const line = stdout.split("\n").find((l) => l.startsWith("ready: "));
        if (line) resolve(line);
      });
      child.once("exit", (code) =>
        reject(new Error(`kaito up exited with ${code} before ready:\n${stderr}`)),
      );
    });
    expect(readyLine).toBe(`ready: export KUBECONFIG=${path.join(stateDir, "kubeconfig")}`);
    const state = JSON.parse(readFileSync(path.join(stateDir, "cluster.json"), "utf8")) as {
      dir: string;
      processes: { name: string; pid: number }[];
    };
    const pids = state.processes.map((p) => p.pid);
    expect(state.processes.map((p) => p.name).sort()).toEqual(
      ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"].sort(),
    );
    expect(pids.every(groupAlive)).toBe(true);
    expect(existsSync(state.dir)).toBe(true);

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(await waitGone(pids)).toEqual([]);
    expect(existsSync(state.dir)).toBe(false);
    expect(existsSync(path.join(stateDir, "cluster.json"))).toBe(false);
    expect([...clusterDirs()].filter((d) => !before.has(d))).toEqual([]);
  });
});
