import { describe, expect, it } from "vitest";
import { nodeObject, podObject, type PodSpec } from "./fixtures.ts";
import { toGpuNode } from "./gpu-node.ts";
import { toGpuPod } from "./gpu-pod.ts";
import { filter, judge, leftoverIfFits, prioritize, type Candidate } from "./placement.ts";
import { seededRandom } from "./bench/dataset.ts";

function candidate(
  name: string,
  gpus: number,
  inUse = 0,
  extra: { gpuMemoryMiB?: number; workspace?: string; replicas?: number } = {},
): Candidate {
  return {
    name,
    node: toGpuNode(nodeObject({ name, gpus, gpuMemoryMiB: extra.gpuMemoryMiB, workspace: extra.workspace })),
    gpusInUse: inUse,
    workspaceReplicas: extra.replicas ?? 0,
  };
}

const pod = (spec: Partial<PodSpec>) => toGpuPod(podObject({ name: "p", namespace: "ns", ...spec }))!;

function scoresOf(p: ReturnType<typeof pod>, cs: Candidate[]): Record<string, number> {
  return Object.fromEntries(prioritize(p, cs).map((score, i) => [cs[i]!.name, score]));
}

describe("filter", () => {
  it("keeps nodes with enough free GPUs and gives every failure a reason", () => {
    const cs = [
      candidate("roomy", 8, 2),
      candidate("full", 8, 7),
      candidate("small", 1),
      { name: "ghost", node: undefined, gpusInUse: 0, workspaceReplicas: 0 },
    ];
    const out = filter(pod({ gpus: 2 }), cs);
    expect(out.feasible).toEqual([0]);
    expect(out.failed).toEqual({ full: "too few free nvidia.com/gpu on the node (the pod needs 2)" });
    expect(out.failedAndUnresolvable).toEqual({
      small: "node has fewer nvidia.com/gpu in all than the pod needs (2)",
      ghost: "node is not in the extender's node cache (yet)",
    });
  });

  it("drops nodes whose GPUs have too little memory, or do not say how much", () => {
    const unlabelled: Candidate = candidate("unlabelled", 8);
    delete unlabelled.node!.gpuMemoryMiB;
    const cs = [candidate("t4", 8, 0, { gpuMemoryMiB: 16384 }), candidate("a100", 8), unlabelled];
    const out = filter(pod({ gpus: 1, minGpuMemoryMiB: 40960 }), cs);
    expect(out.feasible).toEqual([1]);
    expect(out.failedAndUnresolvable.t4).toBe(
      "node's GPUs have less memory than the pod needs (40960 MiB per GPU)",
    );
    expect(out.failedAndUnresolvable.unlabelled).toMatch(/no nvidia.com\/gpu.memory label/);
  });

  it("keeps other workspaces' nodes out of the pod's placement, unless the planner chose them", () => {
    const cs = [
      candidate("mine", 8, 0, { workspace: "ns/ws" }),
      candidate("mine-by-name", 8, 0, { workspace: "ws" }),
      candidate("theirs", 8, 0, { workspace: "ns/other" }),
      candidate("theirs-planned", 8, 0, { workspace: "ns/other" }),
      candidate("shared", 8),
    ];
    const out = filter(pod({ workspace: "ws", plannedNodes: ["theirs-planned"] }), cs);
    expect(out.feasible).toEqual([0, 1, 3, 4]);
    expect(out.failedAndUnresolvable).toEqual({ theirs: "node is reserved for another workspace" });
    // A GPU pod of no workspace stays off workspace nodes too.
    expect(Object.keys(filter(pod({}), cs).failedAndUnresolvable).sort()).toEqual([
      "mine",
      "mine-by-name",
      "theirs",
      "theirs-planned",
    ]);
  });

  it("fails every node with the pod's own problem when its annotation is malformed", () => {
    const out = filter(pod({ minGpuMemoryMiB: "-1" }), [candidate("a", 8), candidate("b", 8)]);
    expect(out.feasible).toEqual([]);
    expect(Object.values(out.failedAndUnresolvable)).toHaveLength(2);
  });

  it("passes every node for a pod without GPUs, known or not", () => {
    const cs = [candidate("a", 0), { name: "ghost", node: undefined, gpusInUse: 0, workspaceReplicas: 0 }];
    expect(filter(pod({ gpus: 0 }), cs)).toEqual({ feasible: [0, 1], failed: {}, failedAndUnresolvable: {} });
  });
});

describe("prioritize", () => {
  it("prefers the tightest fit: fewest GPUs left over", () => {
    const cs = [
      candidate("empty8", 8),
      candidate("half8", 8, 4),
      candidate("empty4", 4),
      candidate("full", 4, 4),
    ];
    expect(scoresOf(pod({ gpus: 2 }), cs)).toEqual({ half8: 10, empty4: 10, empty8: 9, full: 0 });
    expect(scoresOf(pod({ gpus: 4 }), cs)).toEqual({ half8: 10, empty4: 10, empty8: 9, full: 0 });
    expect(
      scoresOf(pod({ gpus: 1 }), [candidate("a", 8, 6), candidate("b", 8, 3), candidate("c", 8)]),
    ).toEqual({
      a: 10,
      b: 9,
      c: 8,
    });
  });

  it("puts the planner's nodes a tier above the rest, best fit within each tier", () => {
    const cs = [
      candidate("tight", 4, 2),
      candidate("planned-loose", 8),
      candidate("planned-tight", 8, 4),
      candidate("loose", 8, 1),
    ];
    expect(scoresOf(pod({ gpus: 2, plannedNodes: ["planned-loose", "planned-tight"] }), cs)).toEqual({
      "planned-tight": 10,
      "planned-loose": 9,
      tight: 5,
      loose: 4,
    });
    // Planned nodes that do not fit leave the others the whole range.
    expect(scoresOf(pod({ gpus: 8, plannedNodes: ["planned-tight"] }), cs)).toEqual({
      "planned-tight": 0,
      "planned-loose": 10,
      tight: 0,
      loose: 0,
    });
  });

  it("spreads a workspace's replicas over nodes that fit equally well", () => {
    const cs = [
      candidate("has-two", 8, 2, { replicas: 2 }),
      candidate("has-one", 8, 2, { replicas: 1 }),
      candidate("other-ws", 8, 2, { replicas: 0 }),
      candidate("tighter", 8, 4, { replicas: 2 }),
    ];
    expect(scoresOf(pod({ gpus: 2, workspace: "ws" }), cs)).toEqual({
      tighter: 10,
      "other-ws": 9,
      "has-one": 8,
      "has-two": 7,
    });
  });

  it("never goes below 0 however many distinct ranks there are", () => {
    const cs = Array.from({ length: 20 }, (_, i) => candidate(`n${i}`, 32, i));
    const scores = prioritize(pod({ gpus: 1 }), cs);
    expect(scores[19]).toBe(10);
    expect(scores[0]).toBe(0);
    expect(Math.min(...scores)).toBe(0);
  });

  it("has no opinion on pods without GPUs", () => {
    expect(scoresOf(pod({ gpus: 0 }), [candidate("a", 8), candidate("b", 8, 7)])).toEqual({ a: 0, b: 0 });
  });
});

describe("leftoverIfFits and judge", () => {
  it("agree on every node, so the fast path and the reasons never diverge", () => {
    const random = seededRandom(7);
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
    for (let i = 0; i < 2000; i++) {
      const gpus = pick([0, 1, 2, 4, 8]);
      const c: Candidate =
        random() < 0.05
          ? { name: "ghost", node: undefined, gpusInUse: 0, workspaceReplicas: 0 }
          : candidate(`n${i % 5}`, gpus, Math.floor(random() * (gpus + 1)), {
              gpuMemoryMiB: pick([16384, 40960, 81920]),
              ...(random() < 0.3 ? { workspace: pick(["ns/ws", "ns/other", "ws"]) } : {}),
            });
      if (c.node && random() < 0.1) delete c.node.gpuMemoryMiB;
      const p = pod({
        gpus: pick([1, 2, 4, 8]),
        ...(random() < 0.5 ? { workspace: pick(["ws", "other"]) } : {}),
        ...(random() < 0.5 ? { minGpuMemoryMiB: pick([16000, 40000, 80000, "bad"]) } : {}),
        ...(random() < 0.3 ? { plannedNodes: ["n1", "n3"] } : {}),
      });
      const v = judge(p, c);
      const leftover = leftoverIfFits(p, c);
      expect(v.fits ? v.leftoverGpus : -1).toBe(leftover);
    }
  });
});
