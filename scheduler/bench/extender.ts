// npm run bench:extender [-- --sizes 100,1000,5000 --seconds 3 --concurrency 8 --json FILE]
//
// Filter+prioritize latency (p50/p99) and throughput of the extender's HTTP server at several
// cluster sizes, in both of kube-scheduler's modes: node names with the extender's own node cache
// (nodeCacheCapable: true) and full Node objects in every request. The server runs on its own
// worker thread, so "per second" means on one core; the load generator runs on the main thread.
// Each row is also measured against a baseline in the same run: a server that only parses the
// same bodies (the HTTP+JSON floor), so the ratios hold whatever the machine's speed. Requests
// carry what kube-scheduler sends by default (it stops filtering once it has found its sample of
// feasible nodes, 500 at 5,000) and, in separate rows, every node of the cluster.
import { writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import type { V1Node } from "@kubernetes/client-node";
import type { MemoryClusterView } from "../cluster-view.ts";
import { Extender } from "../extender.ts";
import { encodeFilterResult, encodeHostPriorityList } from "../wire.ts";
import { benchCluster, benchPod } from "./dataset.ts";

type Mode = "cache" | "full";
/** scheduler: the nodes kube-scheduler's default sampling sends; all: every node (percentageOfNodesToScore 100). */
type Sample = "scheduler" | "all";

interface Row {
  nodes: number;
  mode: Mode;
  sample: Sample;
  /** Nodes in the filter request. */
  sent: number;
  requestKiB: number;
  /** Nodes that pass the filter, and so go to prioritize. */
  feasible: number;
  samples: number;
  p50Ms: number;
  p99Ms: number;
  /** The same bodies to a server that only parses them (server-worker.ts): the HTTP+JSON floor. */
  floorP50Ms: number;
  floorP99Ms: number;
  computeP50Ms: number;
  computeP99Ms: number;
  pairsPerSecond: number;
  requestsPerSecond: number;
  floorPairsPerSecond: number;
}

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,1000,5000" },
    seconds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "8" },
    json: { type: "string" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * The two request bodies kube-scheduler sends for one pod: filter gets every candidate node,
 * prioritize only those that passed the filter (which we learn from the extender itself, so both
 * sides agree on the cluster).
 */
function bodies(size: number, mode: Mode, sample: Sample, all: V1Node[], view: MemoryClusterView) {
  const pod = benchPod(size);
  const nodes = sample === "all" ? all : scheduledSubset(all, view, 2, numFeasibleNodesToFind(all.length));
  const args = (subset: V1Node[]) =>
    JSON.stringify(
      mode === "cache"
        ? { Pod: pod, Nodes: null, NodeNames: subset.map((n) => n.metadata!.name!) }
        : { Pod: pod, Nodes: { metadata: {}, items: subset }, NodeNames: null },
    );
  const filter = args(nodes);
  const feasible = new Extender({ view }).filter(JSON.parse(filter));
  const kept = new Set(feasible.NodeNames ?? feasible.Nodes!.items.map((n) => (n as V1Node).metadata!.name!));
  return {
    filter,
    prioritize: args(nodes.filter((n) => kept.has(n.metadata!.name!))),
    sent: nodes.length,
    feasible: kept.size,
  };
}

/**
 * How many feasible nodes kube-scheduler looks for before it stops filtering (its default
 * percentageOfNodesToScore: 50% less 1% per 125 nodes, at least 5% and 100 nodes): only those
 * reach the extender. At 5,000 nodes that is 500.
 */
function numFeasibleNodesToFind(all: number): number {
  if (all < 100) return all;
  const percentage = Math.max(5, 50 - Math.floor(all / 125));
  return Math.max(100, Math.floor((all * percentage) / 100));
}

/**
 * The nodes kube-scheduler would send: walking the cluster, those its own NodeResourcesFit
 * passes (enough free nvidia.com/gpu for the pod's `gpus`), until it has `count`.
 */
function scheduledSubset(all: V1Node[], view: MemoryClusterView, gpus: number, count: number): V1Node[] {
  const out: V1Node[] = [];
  for (const n of all) {
    const usage = view.lookup(n.metadata!.name!);
    const free = (usage?.node?.gpus ?? 0) - (usage?.gpusInUse ?? 0);
    if (free >= gpus) out.push(n);
    if (out.length === count) break;
  }
  return out;
}

function post(agent: http.Agent, port: number, verb: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: `/${verb}`,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`${verb}: HTTP ${res.statusCode}`));
        res.resume();
        res.on("end", resolve);
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * What one filter+prioritize pair costs the server's thread without HTTP: parse, decide, encode.
 * Returns the sorted samples.
 */
function computeCost(
  view: MemoryClusterView,
  body: { filter: string; prioritize: string },
  budgetMs: number,
): number[] {
  const extender = new Extender({ view });
  const samples: number[] = [];
  const deadline = performance.now() + budgetMs;
  while ((performance.now() < deadline || samples.length < 20) && samples.length < 20_000) {
    const t = performance.now();
    encodeFilterResult(extender.filter(JSON.parse(body.filter)));
    encodeHostPriorityList(extender.prioritize(JSON.parse(body.prioritize)));
    samples.push(performance.now() - t);
  }
  return samples.sort((a, b) => a - b);
}

/**
 * The machine's own jitter: a fixed CPU loop timed repeatedly. On a quiet core its p99 is close
 * to its p50; on a shared one the gap shows how much of a latency tail is not ours.
 */
function cpuJitter(): { p50Ms: number; p99Ms: number } {
  const samples: number[] = [];
  let x = 0;
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    for (let j = 0; j < 500_000; j++) x = (x * 31 + j) | 0;
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  if (x === 42) process.stdout.write(""); // keeps the loop from being optimised away
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99) };
}

interface Served {
  /** Sorted latencies of one filter+prioritize pair, ms. */
  samples: number[];
  pairsPerSecond: number;
}

/** Latency (one pair at a time) and throughput of the server a worker runs for these bodies. */
async function serve(
  size: number,
  body: { filter: string; prioritize: string },
  baseline: boolean,
): Promise<Served> {
  const worker = new Worker(new URL("./server-worker.ts", import.meta.url), {
    workerData: { size, baseline },
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", (m: { port: number }) => resolve(m.port));
    worker.once("error", reject);
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    const pair = async () => {
      await post(agent, port, "filter", body.filter);
      await post(agent, port, "prioritize", body.prioritize);
    };
    // Warm up the JIT and the connection pool.
    const warmupUntil = performance.now() + 500;
    for (let i = 0; i < 3 || performance.now() < warmupUntil; i++) await pair();

    // Latency: one pair at a time, as one kube-scheduler schedules one pod at a time.
    const samples: number[] = [];
    const latencyUntil = performance.now() + seconds * 1000;
    while ((performance.now() < latencyUntil || samples.length < 20) && samples.length < 20_000) {
      const t = performance.now();
      await pair();
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);

    // Throughput: `concurrency` pairs in flight against the single-threaded server.
    let pairs = 0;
    const throughputStart = performance.now();
    const throughputUntil = throughputStart + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < throughputUntil) {
          await pair();
          pairs++;
        }
      }),
    );
    return { samples, pairsPerSecond: pairs / ((performance.now() - throughputStart) / 1000) };
  } finally {
    agent.destroy();
    worker.postMessage("stop");
    await new Promise((resolve) => worker.once("exit", resolve));
  }
}

async function measure(size: number, mode: Mode, sample: Sample): Promise<Row> {
  const { nodes, view } = benchCluster(size);
  const body = bodies(size, mode, sample, nodes, view);
  const extender = await serve(size, body, false);
  const floor = await serve(size, body, true);
  const compute = computeCost(view, body, Math.min(3000, seconds * 1000));
  return {
    nodes: size,
    mode,
    sample,
    sent: body.sent,
    requestKiB: Math.round(Buffer.byteLength(body.filter) / 1024),
    feasible: body.feasible,
    samples: extender.samples.length,
    p50Ms: percentile(extender.samples, 50),
    p99Ms: percentile(extender.samples, 99),
    floorP50Ms: percentile(floor.samples, 50),
    floorP99Ms: percentile(floor.samples, 99),
    computeP50Ms: percentile(compute, 50),
    computeP99Ms: percentile(compute, 99),
    pairsPerSecond: extender.pairsPerSecond,
    requestsPerSecond: extender.pairsPerSecond * 2,
    floorPairsPerSecond: floor.pairsPerSecond,
  };
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const rows: Row[] = [];
const load = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(" ");
const jitter = cpuJitter();
process.stdout.write(
  `extender benchmark: Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), ` +
    `load average ${load}; ${seconds} s per phase, ${concurrency} in flight\n` +
    `machine jitter: a fixed CPU loop takes p50 ${fmt(jitter.p50Ms)} ms, p99 ${fmt(jitter.p99Ms)} ms ` +
    `(p99/p50 ${fmt(jitter.p99Ms / jitter.p50Ms, 1)}; 1.0 on an idle core)\n\n`,
);
process.stdout.write(
  "| cluster nodes | sent (feasible) | mode | filter request | HTTP p50 | HTTP p99 | p50 / floor | p99 / floor | compute p50 | compute p99 | pairs/s | requests/s | pairs/s / floor |\n",
);
process.stdout.write("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
for (const size of sizes) {
  for (const mode of ["cache", "full"] as const) {
    for (const sample of ["scheduler", "all"] as const) {
      // Small clusters are sent whole anyway.
      if (sample === "all" && numFeasibleNodesToFind(size) >= size) continue;
      const row = await measure(size, mode, sample);
      rows.push(row);
      printRow(row);
    }
  }
}

function printRow(row: Row): void {
  process.stdout.write(
    `| ${row.nodes} | ${row.sent}${row.sample === "all" ? " (all)" : ""} (${row.feasible}) | ` +
      `${row.mode === "cache" ? "node cache (names)" : "full Node objects"} | ` +
      `${row.requestKiB} KiB | ${fmt(row.p50Ms)} ms | ${fmt(row.p99Ms)} ms | ` +
      `${fmt(row.p50Ms / row.floorP50Ms, 1)}× | ${fmt(row.p99Ms / row.floorP99Ms, 1)}× | ` +
      `${fmt(row.computeP50Ms)} ms | ${fmt(row.computeP99Ms)} ms | ${fmt(row.pairsPerSecond, 0)} | ` +
      `${fmt(row.requestsPerSecond, 0)} | ${fmt(row.pairsPerSecond / row.floorPairsPerSecond, 2)}× |\n`,
  );
}
process.stdout.write(
  "\nHTTP: one filter then one prioritize (the nodes that passed) over keep-alive loopback, one pod at a time.\n" +
    "floor: the same bodies, same run, to a server that only parses them and answers a constant; the ratios\n" +
    "say what the extender's own work adds to Node's HTTP and JSON. compute: the pair without HTTP (parse,\n" +
    "decide, encode). pairs/s: the server on one thread (one core).\n",
);
const target = rows.find((r) => r.nodes === 5000 && r.mode === "cache" && r.sample === "scheduler");
const everyNode = rows.find((r) => r.nodes === 5000 && r.mode === "cache" && r.sample === "all");
if (target) {
  process.stdout.write(
    `target p99 < 5 ms at 5,000 nodes with the node cache, as kube-scheduler sends them (${target.sent} names): ` +
      `${fmt(target.p99Ms)} ms over HTTP, ${fmt(target.computeP99Ms)} ms compute ` +
      `(${target.p99Ms < 5 ? "met" : "missed"}; ${target.samples} samples)\n`,
  );
}
if (everyNode) {
  process.stdout.write(
    `with percentageOfNodesToScore: 100 (all 5,000 names in every request): p99 ${fmt(everyNode.p99Ms)} ms ` +
      `over HTTP, ${fmt(everyNode.computeP99Ms)} ms compute (${everyNode.p99Ms < 5 ? "met" : "missed"})\n`,
  );
}
if (values.json) writeFileSync(values.json, `${JSON.stringify({ jitter, rows }, null, 2)}\n`);
