// The manager under a large plan: a 10,000-workspace Plan arrives on its gRPC port while
// kube-scheduler-like calls hit the extender's /filter and kubelet-like probes hit /readyz.
// Solves run in worker threads (planner/pool), so the manager's own event loop keeps answering;
// before, the same call held it for the whole solve (15.8 s for 1,500 workspaces, past the
// 5 s kube-scheduler gives an extender). The test prints the latencies it saw.
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOperator } from "../../controller/operator.ts";
import { KubeClient } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import type { Manager } from "../../kube/runtime/manager.ts";
import { jsonLogger } from "../../lib/log.ts";
import { generateFleet } from "../../planner/bench/fleet.ts";
import { toCatalogEntries } from "../../planner/catalog/index.ts";
import { GrpcPlannerClient } from "../../planner/grpc/index.ts";
import { podObject } from "../../scheduler/fixtures.ts";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";

const cluster = useTestCluster();

/** Free loopback ports, found by binding port 0 and letting go. */
async function freePorts(count: number): Promise<number[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<number>((resolve, reject) => {
          const s = createServer();
          s.once("error", reject);
          s.listen(0, "127.0.0.1", () => {
            const { port } = s.address() as { port: number };
            s.close(() => resolve(port));
          });
        }),
    ),
  );
}

let client: KubeClient;
let manager: Manager;
let stop: AbortController;
let running: Promise<void>;
let ports: { health: number; planner: number; extender: number };

beforeAll(async () => {
  const [metrics, health, planner, extender] = await freePorts(4);
  ports = { health: health!, planner: planner!, extender: extender! };
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  manager = buildOperator({
    client,
    components: new Set(["planner", "extender"]),
    addresses: {
      metrics: `127.0.0.1:${metrics}`,
      health: `127.0.0.1:${health}`,
      planner: `127.0.0.1:${planner}`,
      extender: `127.0.0.1:${extender}`,
    },
    log: jsonLogger({ level: "error" }),
  });
  stop = new AbortController();
  running = manager.start(stop.signal);
  await until("the manager's /readyz", async () =>
    (await fetch(`http://127.0.0.1:${ports.health}/readyz`).catch(() => undefined))?.ok ? true : undefined,
  );
});

afterAll(async () => {
  stop?.abort();
  await running;
  client?.close();
});

/** Milliseconds one request takes, failing on anything but 200. */
async function timed(request: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const res = await request();
  await res.text();
  if (res.status !== 200) throw new Error(`answered ${res.status}`);
  return performance.now() - started;
}

describe("the manager while a large plan is solved", () => {
  it("keeps answering /readyz and the extender's /filter", async () => {
    const { problem } = generateFleet(10_000, toCatalogEntries(), { ownShare: 0.5 });
    const planner = new GrpcPlannerClient(`127.0.0.1:${ports.planner}`);
    // A small plan first, so the worker is up and the large one starts solving at once.
    await planner.plan({ demands: [{ name: "warm", replicas: 1, totalGpuMemoryGiB: 10 }] });

    const filterBody = JSON.stringify({
      Pod: podObject({ name: "probe", gpus: 1 }),
      NodeNames: ["no-such-node"],
    });
    const latencies = { readyz: [] as number[], filter: [] as number[] };
    let done = false;
    const started = performance.now();
    const plan = planner.plan(problem).finally(() => (done = true));
    const probes = (async () => {
      while (!done) {
        const [r, f] = await Promise.all([
          timed(() => fetch(`http://127.0.0.1:${ports.health}/readyz`)),
          timed(() =>
            fetch(`http://127.0.0.1:${ports.extender}/filter`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: filterBody,
            }),
          ),
        ]);
        if (done) break;
        latencies.readyz.push(r);
        latencies.filter.push(f);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const result = await plan;
    const planMs = performance.now() - started;
    await probes;
    planner.close();

    const worst = (xs: number[]) => Math.max(...xs);
    console.log(
      `planner-load: ${problem.demands.length} workspaces planned over gRPC in ${planMs.toFixed(0)} ms ` +
        `(${result.status}, gap ${(result.gap * 100).toFixed(3)}%); meanwhile ${latencies.readyz.length} rounds of probes, ` +
        `worst /readyz ${worst(latencies.readyz).toFixed(1)} ms, worst /filter ${worst(latencies.filter).toFixed(1)} ms`,
    );
    expect(result.unplaced).toEqual([]);
    // Had the solve held the event loop, no probe would have been answered before the plan, and
    // the first one would have waited as long as the plan itself.
    expect(latencies.readyz.length).toBeGreaterThanOrEqual(5);
    expect(worst(latencies.readyz)).toBeLessThan(planMs / 2);
    expect(worst(latencies.filter)).toBeLessThan(planMs / 2);
  }, 90_000);
});
