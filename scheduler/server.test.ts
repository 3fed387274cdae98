import http from "node:http";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { BindTarget } from "./binder.ts";
import { MemoryClusterView } from "./cluster-view.ts";
import { nodeObject, podObject } from "./fixtures.ts";
import { startExtenderServer, type RunningExtender } from "./server.ts";

let running: RunningExtender | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

interface Setup {
  synced?: boolean;
  bind?: (t: BindTarget) => Promise<void>;
}

async function start(setup: Setup = {}) {
  const view = new MemoryClusterView({ synced: setup.synced ?? true });
  view.upsertNode(nodeObject({ name: "a8", gpus: 8 }));
  view.upsertNode(nodeObject({ name: "b4", gpus: 4 }));
  view.upsertNode(nodeObject({ name: "c8", gpus: 8 }));
  view.upsertPod(podObject({ name: "busy", gpus: 6, nodeName: "c8" }));
  const registry = new Registry();
  const bound: BindTarget[] = [];
  const binder = setup.bind ? { bind: (t: BindTarget) => (bound.push(t), setup.bind!(t)) } : undefined;
  running = await startExtenderServer({ view, registry, host: "127.0.0.1", port: 0, binder });
  return { view, registry, bound, url: running.url };
}

async function post(url: string, verb: string, body: unknown) {
  const res = await fetch(`${url}/${verb}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json: json as Record<string, unknown> };
}

const gpuPod = (gpus = 2, extra = {}) => podObject({ name: "p", namespace: "ns", gpus, ...extra });

describe("extender HTTP server", () => {
  it("filters by node names in node-cache mode and answers in PascalCase", async () => {
    const { url } = await start();
    const res = await post(url, "filter", { Pod: gpuPod(4), NodeNames: ["a8", "b4", "c8", "gone"] });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      Nodes: null,
      NodeNames: ["a8", "b4"],
      FailedNodes: { c8: "too few free nvidia.com/gpu on the node (the pod needs 4)" },
      FailedAndUnresolvableNodes: { gone: "node is not in the extender's node cache (yet)" },
      Error: "",
    });
  });

  it("filters full Node objects and hands back the objects it keeps", async () => {
    const { url } = await start();
    const nodes = [nodeObject({ name: "x4", gpus: 4 }), nodeObject({ name: "y1", gpus: 1 })];
    const res = await post(url, "filter", { Pod: gpuPod(2), Nodes: { items: nodes } });
    expect(res.json.NodeNames).toBeNull();
    expect(res.json.Nodes).toEqual({ items: [nodes[0]] });
    expect(res.json.FailedAndUnresolvableNodes).toEqual({
      y1: "node has fewer nvidia.com/gpu in all than the pod needs (2)",
    });
  });

  it("reads the envelope in any key case", async () => {
    const { url } = await start();
    const res = await post(url, "filter", { pod: gpuPod(4), nodenames: ["a8", "c8"] });
    expect(res.json.NodeNames).toEqual(["a8"]);
    const scores = await post(url, "prioritize", { POD: gpuPod(2), nodeNames: ["a8", "b4"] });
    expect(scores.json).toEqual([
      { Host: "a8", Score: 9 },
      { Host: "b4", Score: 10 },
    ]);
  });

  it("scores 0..10: planned node a tier above, then best fit", async () => {
    const { url } = await start();
    const res = await post(url, "prioritize", {
      Pod: gpuPod(2, { plannedNodes: ["a8"] }),
      NodeNames: ["a8", "b4", "c8", "gone"],
    });
    expect(res.json).toEqual([
      { Host: "a8", Score: 10 },
      { Host: "b4", Score: 4 },
      { Host: "c8", Score: 5 },
      { Host: "gone", Score: 0 },
    ]);
  });

  it("passes pods without GPUs through untouched, even before the view has synced", async () => {
    const { url } = await start({ synced: false });
    const cpuPod = podObject({ name: "web", gpus: 0 });
    const filtered = await post(url, "filter", { Pod: cpuPod, NodeNames: ["anything", "a8"] });
    expect(filtered.json).toMatchObject({ NodeNames: ["anything", "a8"], FailedNodes: {}, Error: "" });
    const nodes = [{ metadata: { name: "raw" }, extra: 1 }];
    const full = await post(url, "filter", { Pod: cpuPod, Nodes: { items: nodes } });
    expect(full.json.Nodes).toEqual({ items: nodes });
    const scores = await post(url, "prioritize", { Pod: cpuPod, NodeNames: ["a8", "b4"] });
    expect(scores.json).toEqual([
      { Host: "a8", Score: 0 },
      { Host: "b4", Score: 0 },
    ]);
  });

  it("steps aside with an Error until its view has synced, so an ignorable extender is skipped", async () => {
    const { url } = await start({ synced: false });
    const res = await post(url, "filter", { Pod: gpuPod(), NodeNames: ["a8"] });
    expect(res.status).toBe(200);
    expect(res.json.Error).toMatch(/not synced/);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it.each([
    ["malformed JSON", "{not json", /not valid JSON/],
    ["a JSON array", "[]", /must be a JSON object/],
    ["no pod", { NodeNames: ["a8"] }, /no Pod object/],
    ["a pod without a name", { Pod: { metadata: {} }, NodeNames: [] }, /no metadata.name/],
    ["no nodes at all", { Pod: gpuPod() }, /neither Nodes nor NodeNames/],
    ["node names that are not strings", { Pod: gpuPod(), NodeNames: [1] }, /array of node names/],
    ["nodes that are not a list", { Pod: gpuPod(), Nodes: { items: 3 } }, /items array/],
    ["a node without a name", { Pod: gpuPod(), Nodes: { items: [{}] } }, /items\[0\] has no metadata.name/],
  ])("answers 400 to %s", async (_, body, message) => {
    const { url } = await start();
    for (const verb of ["filter", "prioritize"]) {
      const res = await post(url, verb, body);
      expect(res.status).toBe(400);
      expect(res.text).toMatch(message);
    }
  });

  it("answers 404, 405 and 413 where they belong, and keeps serving", async () => {
    const { url } = await start();
    expect((await post(url, "preempt", {})).status).toBe(404);
    expect((await post(url, "bind", {})).status).toBe(404); // no binder configured
    expect((await fetch(`${url}/filter`)).status).toBe(405);
    const view = new MemoryClusterView({ synced: true });
    const small = await startExtenderServer({
      view,
      registry: new Registry(),
      host: "127.0.0.1",
      port: 0,
      maxBodyBytes: 100,
    });
    try {
      const res = await post(small.url, "filter", { Pod: gpuPod(), NodeNames: Array(50).fill("node") });
      expect(res.status).toBe(413);
      // Declared larger than the limit: refused on the headers, the body never sent.
      const declared = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${small.url}/filter`,
          {
            method: "POST",
            headers: { "content-length": String(1 << 30), "content-type": "application/json" },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode!);
            req.destroy();
          },
        );
        req.on("error", reject);
        req.flushHeaders();
      });
      expect(declared).toBe(413);
    } finally {
      await small.close();
    }
    expect((await post(url, "filter", { Pod: gpuPod(), NodeNames: ["a8"] })).json.NodeNames).toEqual(["a8"]);
  });

  it("accepts a urlPrefix with a path: the verb is the last segment", async () => {
    const { url } = await start();
    const res = await post(`${url}/kaito/extender`, "filter", { Pod: gpuPod(), NodeNames: ["a8"] });
    expect(res.json.NodeNames).toEqual(["a8"]);
  });

  it("binds through the binder and counts the pod on its node at once", async () => {
    let release: () => void = () => {};
    const { url, view, bound } = await start({ bind: () => new Promise<void>((r) => (release = r)) });
    await post(url, "filter", { Pod: gpuPod(4, { workspace: "ws" }), NodeNames: ["a8"] });
    const binding = post(url, "bind", { PodName: "p", PodNamespace: "ns", PodUID: "uid-p", Node: "a8" });
    await new Promise((r) => setTimeout(r, 50));
    // While the API call is in flight, the next pod already sees the GPUs as taken.
    expect(view.gpusInUse("a8")).toBe(4);
    expect(view.workspaceReplicasOn("a8", "ns/ws")).toBe(1);
    release();
    expect((await binding).json).toEqual({ Error: "" });
    expect(bound).toEqual([{ namespace: "ns", name: "p", uid: "uid-p", nodeName: "a8" }]);
  });

  it("reports a failed binding in Error and stops counting the pod", async () => {
    const { url, view } = await start({ bind: () => Promise.reject(new Error('pods "p" not found')) });
    await post(url, "filter", { Pod: gpuPod(4), NodeNames: ["a8"] });
    const res = await post(url, "bind", { PodName: "p", PodNamespace: "ns", PodUID: "uid-p", Node: "a8" });
    expect(res.status).toBe(200);
    expect(res.json.Error).toBe('binding pod ns/p to node a8 failed: pods "p" not found');
    expect(view.gpusInUse("a8")).toBe(0);
    expect((await post(url, "bind", { PodName: "p" })).status).toBe(400);
  });

  it("records request latency by verb on the injected registry", async () => {
    const { url, registry } = await start();
    await post(url, "filter", { Pod: gpuPod(), NodeNames: ["a8"] });
    await post(url, "prioritize", { Pod: gpuPod(), NodeNames: ["a8"] });
    await post(url, "filter", "{");
    const text = await registry.metrics();
    expect(text).toMatch(/kaito_extender_request_duration_seconds_count\{verb="filter"\} 2/);
    expect(text).toMatch(/kaito_extender_request_duration_seconds_count\{verb="prioritize"\} 1/);
    expect(text).toMatch(/kaito_extender_requests_total\{verb="filter",code="400"\} 1/);
  });
});
