// The measuring end of `npm run bench:manager-memory`, run in a process of its own with
// --expose-gc: builds the whole operator (workspace controller, provisioner on the local cloud,
// planner, extender) as `kaito controller` does, waits until /readyz says every cache has
// listed, forces garbage collection and prints the process's memory as one JSON line on stdout.
//
// `--repo DIR` loads the operator from another checkout of this repository (the same entry
// points), so one run can measure the code before a change beside the code after it.
import path from "node:path";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string" },
    repo: { type: "string", default: path.resolve(import.meta.dirname, "../..") },
    "timeout-seconds": { type: "string", default: "600" },
  },
});
const repo = path.resolve(values.repo!);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run the probe with node --expose-gc");

const { loadKubeConfig } = await import(path.join(repo, "kube/config.ts"));
const { KubeClient } = await import(path.join(repo, "kube/client.ts"));
const { runOperator } = await import(path.join(repo, "controller/run.ts"));
const { componentNames } = await import(path.join(repo, "controller/operator.ts"));
const { jsonLogger } = await import(path.join(repo, "lib/log.ts"));

interface ManagerLike {
  ports(): number[];
}

const client = new KubeClient(loadKubeConfig({ kubeconfig: values.kubeconfig }));
const stop = new AbortController();
let manager: ManagerLike | undefined;
const started = performance.now();
const running = runOperator(
  {
    client,
    cloud: "local",
    components: new Set(componentNames),
    log: jsonLogger({ level: "error", write: (line: string) => process.stderr.write(line) }),
    addresses: {
      metrics: "127.0.0.1:0",
      health: "127.0.0.1:0",
      planner: "127.0.0.1:0",
      extender: "127.0.0.1:0",
    },
    onManager: (m: ManagerLike) => (manager = m),
  },
  stop.signal,
);
running.catch((e: unknown) => {
  process.stderr.write(`memory probe: the operator failed: ${String(e)}\n`);
  process.exit(1);
});

const deadline = performance.now() + Number(values["timeout-seconds"]) * 1000;
for (;;) {
  const health = manager?.ports()[1];
  const ready = health && (await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => undefined))?.ok;
  if (ready) break;
  if (performance.now() > deadline) throw new Error("the operator's caches did not sync in time");
  await sleep(200);
}
const syncSeconds = (performance.now() - started) / 1000;
// Let what the first lists left behind (pages, parsed JSON) become garbage, then collect it all.
await sleep(1_000);
for (let i = 0; i < 3; i++) {
  gc();
  await sleep(100);
}
const m = process.memoryUsage();
const status = await import("node:fs").then((fs) => fs.readFileSync("/proc/self/status", "utf8"));
const peakRss = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) * 1024;
// RSS again after ten quiet seconds: what V8 and the allocator keep once they have had time to
// hand back what the first lists used.
await sleep(10_000);
gc();
const idleRss = process.memoryUsage().rss;
process.stdout.write(
  `${JSON.stringify({ heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, idleRss, external: m.external, peakRss, syncSeconds })}\n`,
);
stop.abort();
await running.catch(() => undefined);
client.close();
process.exit(0);
