import { describe, expect, it } from "vitest";
import { FakeClock } from "../lib/clock.ts";
import { MemoryClusterView, type EventSource } from "./cluster-view.ts";
import { nodeObject, podObject } from "./fixtures.ts";

describe("MemoryClusterView", () => {
  it("counts GPUs of non-terminated pods bound to each node, incrementally", () => {
    const view = new MemoryClusterView();
    view.upsertPod(podObject({ name: "a", gpus: 2, nodeName: "n1", workspace: "ws" }));
    view.upsertPod(podObject({ name: "b", gpus: 1, nodeName: "n1", workspace: "ws" }));
    view.upsertPod(podObject({ name: "pending", gpus: 4 }));
    view.upsertPod(podObject({ name: "cpu", gpus: 0, nodeName: "n1" }));
    expect(view.gpusInUse("n1")).toBe(3);
    expect(view.workspaceReplicasOn("n1", "default/ws")).toBe(2);

    view.upsertPod(podObject({ name: "b", gpus: 1, nodeName: "n1", workspace: "ws", phase: "Succeeded" }));
    expect(view.gpusInUse("n1")).toBe(2);
    view.upsertPod(podObject({ name: "pending", gpus: 4, nodeName: "n2" }));
    expect(view.gpusInUse("n2")).toBe(4);
    view.deletePod(podObject({ name: "a" }));
    expect(view.gpusInUse("n1")).toBe(0);
    expect(view.workspaceReplicasOn("n1", "default/ws")).toBe(0);
  });

  it("keeps nodes by name and forgets deleted ones", () => {
    const view = new MemoryClusterView();
    view.upsertNode(nodeObject({ name: "n1", gpus: 4 }));
    view.upsertNode(nodeObject({ name: "n1", gpus: 8 }));
    expect(view.node("n1")?.gpus).toBe(8);
    expect([...view.nodes()].map((n) => n.name)).toEqual(["n1"]);
    view.deleteNode(nodeObject({ name: "n1" }));
    expect(view.node("n1")).toBeUndefined();
  });

  it("counts an assumed pod until its own bound event replaces it", () => {
    const view = new MemoryClusterView();
    view.upsertPod(podObject({ name: "p", gpus: 2, workspace: "ws" }));
    view.assume({ key: "default/p", uid: "uid-p", nodeName: "n1", gpus: 2, workspace: "default/ws" });
    expect(view.gpusInUse("n1")).toBe(2);
    expect(view.workspaceReplicasOn("n1", "default/ws")).toBe(1);
    // Still pending in the watch: the assumption stays.
    view.upsertPod(podObject({ name: "p", gpus: 2, workspace: "ws" }));
    expect(view.gpusInUse("n1")).toBe(2);
    // Bound: counted once, from the pod itself.
    view.upsertPod(podObject({ name: "p", gpus: 2, nodeName: "n1", workspace: "ws" }));
    expect(view.gpusInUse("n1")).toBe(2);
    expect(view.assumedCount()).toBe(0);
    // Assuming an already bound pod changes nothing.
    view.assume({ key: "default/p", uid: "uid-p", nodeName: "n1", gpus: 2 });
    expect(view.gpusInUse("n1")).toBe(2);
  });

  it("drops an assumption when the binding fails, the pod goes, or it expires", () => {
    const clock = new FakeClock();
    const view = new MemoryClusterView({ clock, assumeTtlMs: 30_000 });
    view.assume({ key: "ns/a", uid: "1", nodeName: "n", gpus: 1 });
    view.forget("ns/a", "other-uid");
    expect(view.gpusInUse("n")).toBe(1);
    view.forget("ns/a", "1");
    expect(view.gpusInUse("n")).toBe(0);

    view.assume({ key: "ns/b", uid: "2", nodeName: "n", gpus: 2 });
    view.deletePod(podObject({ name: "b", namespace: "ns" }));
    expect(view.gpusInUse("n")).toBe(0);

    view.assume({ key: "ns/c", uid: "3", nodeName: "n", gpus: 4 });
    clock.step(29_999);
    expect(view.gpusInUse("n")).toBe(4);
    clock.step(1);
    expect(view.gpusInUse("n")).toBe(0);
    expect(clock.pending()).toBe(0);
  });

  it("is fed by informer events", () => {
    type Verb = "added" | "updated" | "deleted";
    const handlers = (): EventSource<unknown> & { emit(type: Verb, object: unknown): void } => {
      const fns: ((e: { type: Verb; object: unknown }) => void)[] = [];
      return {
        on: (fn) => fns.push(fn),
        emit: (type, object) => fns.forEach((fn) => fn({ type, object })),
      };
    };
    const nodes = handlers();
    const pods = handlers();
    const view = new MemoryClusterView();
    view.feedFrom({ nodes, pods });
    expect(view.synced()).toBe(false);
    nodes.emit("added", nodeObject({ name: "n", gpus: 8 }));
    pods.emit("added", podObject({ name: "p", gpus: 3, nodeName: "n" }));
    pods.emit("updated", podObject({ name: "p", gpus: 3, nodeName: "n", phase: "Failed" }));
    view.markSynced();
    expect(view.synced()).toBe(true);
    expect(view.node("n")?.gpus).toBe(8);
    expect(view.gpusInUse("n")).toBe(0);
    nodes.emit("deleted", nodeObject({ name: "n" }));
    expect(view.node("n")).toBeUndefined();
  });
});
