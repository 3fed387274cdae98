import { describe, expect, it } from "vitest";
import type { InferenceSet } from "../../crds/index.ts";
import { FakeClock } from "../../lib/clock.ts";
import { maxUnavailable } from "./controller.ts";
import { Expectations } from "./expectations.ts";
import { creatableWithin, nodesInUse, nodesPerReplica } from "./limit.ts";
import {
  freeIndices,
  isCurrent,
  replicaIndex,
  replicaManifest,
  replicaName,
  replicasOf,
  templateHash,
  type Replica,
} from "./replicas.ts";
import { freedCost, pickForRemoval, type NodeUse, type ReplicaCost } from "./scale-down.ts";

function set(overrides: Partial<InferenceSet["spec"]> = {}): InferenceSet {
  return {
    apiVersion: "kaito.sh/v1beta1",
    kind: "InferenceSet",
    metadata: { name: "mistral-7b", namespace: "ns", uid: "set-uid", generation: 1 },
    spec: {
      replicas: 2,
      labelSelector: { matchLabels: { apps: "mistral-7b" } },
      template: {
        metadata: { labels: { team: "a" }, annotations: { "kaito.sh/runtime": "vllm" } },
        resource: { instanceType: "Standard_NC24ads_A100_v4" },
        inference: { preset: { name: "mistral-7b-instruct" } },
      },
      ...overrides,
    },
  };
}

describe("an InferenceSet's replicas", () => {
  it("are Workspaces named <set>-<index>, labelled for the set's selector and owned by it", () => {
    const w = replicaManifest(set(), 3);
    expect(w.metadata).toMatchObject({
      name: "mistral-7b-3",
      namespace: "ns",
      labels: { team: "a", "inferenceset.kaito.sh/created-by": "mistral-7b" },
      annotations: { "kaito.sh/runtime": "vllm" },
      ownerReferences: [
        {
          apiVersion: "kaito.sh/v1beta1",
          kind: "InferenceSet",
          name: "mistral-7b",
          uid: "set-uid",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    // The set's labels, not one per replica: siblings may share nodes.
    expect(w.resource).toEqual({
      instanceType: "Standard_NC24ads_A100_v4",
      labelSelector: { matchLabels: { apps: "mistral-7b" } },
    });
    expect(w.inference).toEqual({ preset: { name: "mistral-7b-instruct" } });
    expect(isCurrent(set(), w)).toBe(true);
  });

  it("fill the lowest free indices and read them back from names", () => {
    expect(freeIndices([0, 2, 3], 3)).toEqual([1, 4, 5]);
    expect(replicaIndex(set(), replicaName(set(), 12))).toBe(12);
    expect(replicaIndex(set(), "mistral-7b-x")).toBeUndefined();
    expect(replicaIndex(set(), "mistral-7b-01")).toBeUndefined();
    expect(replicaIndex(set(), "other-1")).toBeUndefined();
  });

  it("are the Workspaces the set controls by uid, not by name", () => {
    const own = replicaManifest(set(), 0);
    const stranger = {
      ...replicaManifest(set(), 1),
      metadata: { ...replicaManifest(set(), 1).metadata, ownerReferences: [] },
    };
    const otherSet = replicaManifest({ ...set(), metadata: { ...set().metadata, uid: "old" } }, 2);
    expect(replicasOf(set(), [own, stranger, otherSet] as Replica[]).map((w) => w.metadata!.name)).toEqual([
      "mistral-7b-0",
    ]);
  });

  it("are outdated once the template changes, and not when only replicas do", () => {
    const w = replicaManifest(set(), 0);
    expect(isCurrent(set({ replicas: 5 }), w)).toBe(true);
    const changed = set();
    changed.spec.template.inference = { preset: { name: "phi-4-mini-instruct" } };
    expect(templateHash(changed)).not.toBe(templateHash(set()));
    expect(isCurrent(changed, w)).toBe(false);
  });

  it("roll maxUnavailable at a time, a percentage rounding down but never below one", () => {
    expect(maxUnavailable(set(), 4)).toBe(1);
    expect(maxUnavailable(set({ updateStrategy: { rollingUpdate: { maxUnavailable: 2 } } }), 4)).toBe(2);
    expect(maxUnavailable(set({ updateStrategy: { rollingUpdate: { maxUnavailable: "50%" } } }), 5)).toBe(2);
    expect(maxUnavailable(set({ updateStrategy: { rollingUpdate: { maxUnavailable: "10%" } } }), 5)).toBe(1);
  });
});

describe("scaling down", () => {
  const replica = (name: string, index: number, nodes: string[], ready = true): ReplicaCost => ({
    name,
    index,
    ready,
    nodes,
  });
  const use = (users: Record<string, string[]>, price = 3.67): NodeUse => ({
    pricePerHour: new Map(Object.keys(users).map((n) => [n, price])),
    users: new Map(Object.entries(users).map(([n, u]) => [n, new Set(u)])),
  });

  it("frees a node's price only when no other workload is on it", () => {
    const u = use({ a: ["ns/r-0"], b: ["ns/r-1", "ns/r-2"] });
    expect(freedCost(replica("r-0", 0, ["a"]), "ns", u)).toBe(3.67);
    expect(freedCost(replica("r-1", 1, ["b"]), "ns", u)).toBe(0);
  });

  it("removes a replica alone on its node before one sharing a node, whatever their indices", () => {
    const u = use({ a: ["ns/r-0"], b: ["ns/r-1", "ns/r-2"] });
    const replicas = [replica("r-0", 0, ["a"]), replica("r-1", 1, ["b"]), replica("r-2", 2, ["b"])];
    expect(pickForRemoval(replicas, 1, "ns", u).map((r) => r.name)).toEqual(["r-0"]);
  });

  it("frees the dearer nodes first, then not-ready replicas, then the highest index", () => {
    const prices: NodeUse = {
      pricePerHour: new Map([
        ["cheap", 1],
        ["dear", 10],
      ]),
      users: new Map([
        ["cheap", new Set(["ns/r-0"])],
        ["dear", new Set(["ns/r-1"])],
      ]),
    };
    expect(
      pickForRemoval([replica("r-0", 0, ["cheap"]), replica("r-1", 1, ["dear"])], 1, "ns", prices)[0]!.name,
    ).toBe("r-1");
    const even = use({ a: ["ns/r-0"], b: ["ns/r-1"], c: ["ns/r-2"] });
    const replicas = [replica("r-0", 0, ["a"]), replica("r-1", 1, ["b"], false), replica("r-2", 2, ["c"])];
    expect(pickForRemoval(replicas, 2, "ns", even).map((r) => r.name)).toEqual(["r-1", "r-2"]);
  });
});

describe("spec.nodeCountLimit", () => {
  it("counts shared nodes once and unplaced replicas by their target", () => {
    expect(nodesInUse([{ nodes: ["a"] }, { nodes: ["a"] }, { nodes: [], target: 2 }])).toBe(3);
    expect(nodesPerReplica([{ nodes: ["a", "b"] }, { nodes: [] }])).toBe(2);
    expect(nodesPerReplica([])).toBe(1);
  });

  it("holds back the replicas that would pass the limit", () => {
    const two = [{ nodes: ["a"] }, { nodes: ["b"] }];
    expect(creatableWithin(undefined, two, 3)).toBe(3);
    expect(creatableWithin(0, two, 3)).toBe(3);
    expect(creatableWithin(3, two, 3)).toBe(1);
    expect(creatableWithin(2, two, 1)).toBe(0);
    expect(creatableWithin(8, [{ nodes: ["a", "b"] }], 5)).toBe(3);
  });
});

describe("expectations", () => {
  it("hold a set's next pass until the cache shows its creates and deletes, or they lapse", () => {
    const clock = new FakeClock();
    const e = new Expectations(clock, 30_000);
    const a = replicaManifest(set(), 0);
    a.metadata!.uid = "a";
    const b = replicaManifest(set(), 1);
    b.metadata!.uid = "b";
    e.created("ns/s", "mistral-7b-1");
    e.deleted("ns/s", "a");
    expect(e.satisfied("ns/s", [a])).toBe(false); // b not seen, a not yet terminating
    expect(e.remainingMs("ns/s")).toBe(30_000);
    expect(e.satisfied("ns/s", [a, b])).toBe(false); // b seen, a still live
    const terminating = { ...a, metadata: { ...a.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    expect(e.satisfied("ns/s", [terminating, b])).toBe(true);

    e.created("ns/s", "mistral-7b-2");
    clock.step(30_000);
    expect(e.satisfied("ns/s", [b])).toBe(true); // lapsed: a lost event delays, never stalls
    e.created("ns/s", "mistral-7b-3");
    e.notCreated("ns/s", "mistral-7b-3");
    expect(e.satisfied("ns/s", [b])).toBe(true);
  });
});
