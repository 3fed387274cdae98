import { describe, expect, it } from "vitest";
import { inferenceRequirement, mustGetPreset } from "../../presets/index.ts";
import { toCatalogEntries } from "../catalog/index.ts";
import { solve } from "../packing/solve.ts";
import type { SkuSpec } from "../packing/types.ts";
import { placeWorkloads, quotaPriced } from "./policy.ts";
import type { PlacementContext, PlanFn, Workload, WorkloadOutcome } from "./types.ts";

const catalog = toCatalogEntries();
const named = (name: string) => catalog.find((s) => s.name === name)!;

function workload(name: string, preset: string, over: Partial<Workload> = {}): Workload {
  const r = inferenceRequirement(mustGetPreset(preset));
  return {
    name,
    replicas: 1,
    totalGpuMemoryGiB: r.totalGpuMemoryGiB,
    minGpuMemoryGiB: r.minGpuMemoryGiB,
    labels: { apps: name },
    skus: catalog.map((s) => s.name),
    ...over,
  };
}

/** The planner over `skus`, recording every problem it is asked. */
function planner(skus: readonly SkuSpec[] = catalog): { plan: PlanFn; asked: Parameters<PlanFn>[0][] } {
  const asked: Parameters<PlanFn>[0][] = [];
  return {
    asked,
    plan: (problem) => {
      asked.push(problem);
      return solve({ catalog: skus, ...problem });
    },
  };
}

const context = (over: Partial<PlacementContext> = {}): PlacementContext => ({
  catalog,
  quota: {},
  nodes: [],
  ...over,
});

function placed(o: WorkloadOutcome) {
  if (!("placement" in o)) throw new Error(`${o.workload} was not placed: ${o.failure.reason}`);
  return o.placement;
}

describe("placeWorkloads: one workload, as the controller places it", () => {
  it("holds a replica on one node when some size can, without asking for more", async () => {
    const p = planner();
    const out = await placeWorkloads(
      [workload("phi", "phi-3-mini-4k-instruct", { replicas: 2 })],
      context(),
      p.plan,
    );
    const x = placed(out.outcomes[0]!);
    expect(x.nodesPerReplica).toBe(1);
    expect(p.asked.map((q) => q.demands[0]!.maxNodesPerReplica)).toEqual([1]);
    expect(out.costPerHour).toBe(x.costPerHour);
  });

  it("spans nodes only when no size holds a replica on one", async () => {
    const onlySmall = [named("Standard_NC24ads_A100_v4")];
    const p = planner(onlySmall);
    const w = workload("llama", "llama-3.3-70b-instruct", { skus: onlySmall.map((s) => s.name) });
    const x = placed((await placeWorkloads([w], context({ catalog: onlySmall }), p.plan)).outcomes[0]!);
    expect(p.asked.map((q) => q.demands[0]!.maxNodesPerReplica)).toEqual([1, 8]);
    expect(x.nodesPerReplica).toBe(2);
    expect(x.newNodes).toHaveLength(2);
  });

  it("asks again for the size it used most when a plan mixes sizes, so every pod requests the same GPUs", async () => {
    // Three mistral replicas: the cheapest plan puts two on a 4-T4 node and one on an A10.
    const p = planner();
    const x = placed(
      (await placeWorkloads([workload("m", "mistral-7b-instruct", { replicas: 3 })], context(), p.plan))
        .outcomes[0]!,
    );
    expect(p.asked).toHaveLength(2);
    expect(p.asked[1]!.demands[0]!.skus).toEqual(["Standard_NC64as_T4_v3"]);
    expect(x.instanceType).toBe("Standard_NC64as_T4_v3");
    expect(new Set(x.newNodes.map((n) => n.sku))).toEqual(new Set(["Standard_NC64as_T4_v3"]));
    expect(x.gpusPerPod).toBe(2);
  });

  it("uses the free GPUs of an existing node with its labels before buying", async () => {
    const node = { name: "old", sku: "Standard_NC64as_T4_v3", labels: { apps: "m" }, freeGpus: 3 };
    const x = placed(
      (
        await placeWorkloads(
          [workload("m", "mistral-7b-instruct", { replicas: 3, skus: ["Standard_NC64as_T4_v3"] })],
          context({ nodes: [node] }),
          planner().plan,
        )
      ).outcomes[0]!,
    );
    // One pod of 2 GPUs fits in the 3 free; the other two share one new node.
    expect(x.existingNodes).toEqual(["old"]);
    expect(x.replicaNodes.filter((n) => n[0] === "old")).toHaveLength(1);
    expect(x.newNodes).toHaveLength(1);
  });

  it("says why a workload has no place, by code", async () => {
    const out = await placeWorkloads(
      [
        workload("huge", "llama-3.3-70b-instruct", { skus: ["Standard_NC4as_T4_v3"] }),
        workload("quota", "phi-3-mini-4k-instruct", { skus: ["Standard_NC4as_T4_v3"] }),
      ],
      context({ quota: { standardNCASv3_T4Family: 0 } }),
      planner().plan,
    );
    expect(out.outcomes.map((o) => ("failure" in o ? o.failure.code : "placed"))).toEqual([
      "NoEligibleSku",
      "QuotaExhausted",
    ]);
  });

  it("launches nothing with existing nodes only, and says what does not fit", async () => {
    const node = { name: "byo", sku: "Standard_NC24ads_A100_v4", labels: { apps: "phi" }, freeGpus: 1 };
    const out = await placeWorkloads(
      [workload("phi", "phi-3-mini-4k-instruct", { replicas: 2 })],
      context({ nodes: [node], existingOnly: true }),
      planner().plan,
    );
    expect(out.newNodes).toEqual([]);
    const o = out.outcomes[0]!;
    expect("failure" in o && o.failure.code).toBe("NoRoom");
  });
});

describe("placeWorkloads: workloads that arrive together", () => {
  const team = { team: "nlp" };

  it("lets workloads with the same labels share a new node, launched by the first", async () => {
    // Two llama-3.1-8b replicas need two 16 GiB GPUs each: one 4-T4 node holds both.
    const ws = [
      workload("a", "llama-3.1-8b-instruct", { labels: team }),
      workload("b", "llama-3.1-8b-instruct", { labels: team }),
    ];
    const alone = await Promise.all(ws.map((w) => placeWorkloads([w], context(), planner().plan)));
    const together = await placeWorkloads(ws, context(), planner().plan);
    const [a, b] = together.outcomes.map(placed);
    expect(a!.newNodes).toHaveLength(1);
    expect(b!.newNodes).toEqual([]);
    expect(b!.sharedNodes).toEqual([{ node: a!.newNodes[0]!.name, host: "a" }]);
    expect(together.costPerHour).toBeLessThan(alone.reduce((s, x) => s + x.costPerHour, 0));
  });

  it("never puts workloads with different labels on one new node", async () => {
    const ws = [workload("a", "llama-3.1-8b-instruct"), workload("b", "llama-3.1-8b-instruct")];
    const out = await placeWorkloads(ws, context(), planner().plan);
    expect(out.outcomes.map(placed).every((p) => p.sharedNodes.length === 0)).toBe(true);
  });

  it("places a workload whose part of the joint plan breaks the rules on its own, in what the others left", async () => {
    // The joint plan mixes sizes for the three-replica workload; it is placed again alone, and
    // may use the free GPUs of the node the other launched.
    const ws = [
      workload("a", "llama-3.1-8b-instruct", { labels: team }),
      workload("m", "mistral-7b-instruct", { labels: team, replicas: 3 }),
    ];
    const p = planner();
    const out = await placeWorkloads(ws, context(), p.plan);
    const [a, m] = out.outcomes.map(placed);
    expect(new Set([a!.instanceType, m!.instanceType]).size).toBeGreaterThan(0);
    expect(new Set(m!.replicaNodes.flat().map((n) => out.newNodes.find((x) => x.name === n)!.sku)).size).toBe(
      1,
    );
    // Every node launched is hosted by exactly one workload, and every placement's node exists.
    const hosted = out.outcomes.flatMap((o) => placed(o).newNodes.map((n) => n.name));
    expect(new Set(hosted).size).toBe(out.newNodes.length);
    for (const x of out.outcomes.map(placed)) {
      for (const n of x.replicaNodes.flat()) expect(out.newNodes.some((y) => y.name === n)).toBe(true);
    }
  });

  it("keeps the batch's quota: the second workload gets what the first left", async () => {
    const t4 = named("Standard_NC4as_T4_v3");
    const ws = [
      workload("a", "phi-3-mini-4k-instruct", { skus: [t4.name] }),
      workload("b", "phi-3-mini-4k-instruct", { skus: [t4.name] }),
    ];
    const out = await placeWorkloads(ws, context({ quota: { [t4.family]: t4.vcpus } }), planner().plan);
    const codes = out.outcomes.map((o) => ("failure" in o ? o.failure.code : "placed"));
    expect(codes.sort()).toEqual(["QuotaExhausted", "placed"]);
    expect(out.newNodes).toHaveLength(1);
  });
});

describe("quotaPriced", () => {
  const t4 = named("Standard_NC4as_T4_v3");
  const t4x4 = named("Standard_NC64as_T4_v3");
  const a10 = named("Standard_NV36ads_A10_v5");
  const skus = [t4, t4x4, a10];
  const extra = (priced: SkuSpec[] | undefined, s: SkuSpec) =>
    priced!.find((x) => x.name === s.name)!.pricePerHour - s.pricePerHour;

  it("adds nothing while every family has plenty", () => {
    expect(quotaPriced(skus, { [t4.family]: 10_000 }, { [t4.family]: 10_000 })).toBeUndefined();
    expect(quotaPriced(skus, {})).toBeUndefined();
  });

  it("prices a short family's vCPUs, more the shorter it is, and the others' not at all", () => {
    const half = quotaPriced(skus, { [t4.family]: 128 }, { [t4.family]: 256 });
    const none = quotaPriced(skus, { [t4.family]: 0 }, { [t4.family]: 256 });
    expect(extra(half, a10)).toBe(0);
    expect(extra(half, t4x4)).toBeCloseTo(16 * extra(half, t4), 9);
    expect(extra(none, t4x4)).toBeCloseTo(2 * extra(half, t4x4), 9);
  });

  it("without the quota's size, counts a family short once it has room for few of its largest nodes", () => {
    expect(quotaPriced(skus, { [t4.family]: 8 * 64 })).toBeUndefined();
    expect(extra(quotaPriced(skus, { [t4.family]: 64 }), t4x4)).toBeGreaterThan(0);
  });
});
