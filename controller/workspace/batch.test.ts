import { describe, expect, it } from "vitest";
import type { Workspace } from "../../crds/index.ts";
import { FakeClock } from "../../lib/clock.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import { PlacementBatcher, type BatchAnswer } from "./batch.ts";
import { nodeObjectName as machineName } from "../nodeprovision/index.ts";
import type { ExistingGpuNode } from "./placement.ts";
import { modelNeed } from "./requirement.ts";

function workspace(name: string, preset: string, labels: Record<string, string>): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: "default", uid: `${name}-uid` },
    resource: { count: 1, labelSelector: { matchLabels: labels } },
    inference: { preset: { name: preset } },
  };
}

function batcher() {
  const clock = new FakeClock(0);
  const enqueued: string[] = [];
  let wake: () => void = () => {};
  const b = new PlacementBatcher({
    planner: new InProcessPlannerClient(),
    clock,
    enqueue: (key) => {
      enqueued.push(key);
      wake();
    },
  });
  /** Resolves once `count` workspaces have been requeued. */
  const requeued = (count: number) =>
    new Promise<void>((resolve) => {
      wake = () => enqueued.length >= count && resolve();
      wake();
    });
  return { clock, enqueued, b, requeued };
}

const ask = (b: PlacementBatcher, ws: Workspace): BatchAnswer => {
  const need = modelNeed(ws);
  if (need.kind !== "preset") throw new Error("a preset workspace");
  return b.request({ ws, req: need.requirement, existing: [], excluded: [] });
};

function placementOf(a: BatchAnswer) {
  if (a.kind !== "placed") throw new Error(`not placed: ${JSON.stringify(a)}`);
  return a.placement;
}

describe("PlacementBatcher", () => {
  it("plans workspaces with the same labels that arrive together as one, so they share a node", async () => {
    const { clock, b, requeued, enqueued } = batcher();
    const team = { team: "nlp" };
    const first = workspace("a", "llama-3.1-8b-instruct", team);
    const second = workspace("b", "llama-3.1-8b-instruct", team);
    expect(ask(b, first)).toMatchObject({ kind: "wait" });
    clock.step(600);
    expect(ask(b, second)).toMatchObject({ kind: "wait" });
    // The window closes 1 s after the last arrival; then both are planned and requeued.
    clock.step(999);
    expect(enqueued).toEqual([]);
    clock.step(1);
    await requeued(2);
    expect(enqueued.sort()).toEqual(["default/a", "default/b"]);

    const host = placementOf(ask(b, first));
    const guest = placementOf(ask(b, second));
    expect(host.newNodes).toBe(1);
    expect(guest.newNodes).toBe(0);
    expect(guest.sharedNodes).toEqual([
      { name: machineName(first, host.instanceType, 0), launchedBy: "default/a" },
    ]);
    expect(guest.instanceType).toBe(host.instanceType);
    // An answer is handed over once: asking again joins a new window.
    expect(ask(b, first)).toMatchObject({ kind: "wait" });
  });

  it("keeps workspaces with different labels in windows of their own", async () => {
    const { clock, b, requeued } = batcher();
    const a = workspace("a", "llama-3.1-8b-instruct", { apps: "a" });
    const z = workspace("z", "llama-3.1-8b-instruct", { apps: "z" });
    ask(b, a);
    ask(b, z);
    clock.step(1_000);
    await requeued(2);
    for (const ws of [a, z]) {
      const p = placementOf(ask(b, ws));
      expect(p.sharedNodes).toBeUndefined();
      expect(p.newNodes).toBe(1);
    }
  });

  it("knows the Machines a plan not yet taken will launch, and forgets a deleted workspace", async () => {
    const { clock, b, requeued, enqueued } = batcher();
    const team = { team: "nlp" };
    const host = workspace("a", "llama-3.1-8b-instruct", team);
    const gone = workspace("gone", "llama-3.1-8b-instruct", team);
    ask(b, host);
    ask(b, gone);
    b.forget(gone);
    clock.step(1_000);
    await requeued(1);
    expect(enqueued).toEqual(["default/a"]);
    const sku = "Standard_NV36ads_A10_v5";
    expect(b.willLaunch("default/a", machineName(host, sku, 0))).toBe(true);
    expect(b.willLaunch("default/a", machineName(host, sku, 1))).toBe(false);
    placementOf(ask(b, host));
    expect(b.willLaunch("default/a", machineName(host, sku, 0))).toBe(false);
  });

  it("offers the batch no node a member owns, and each node with the least free GPUs any member saw", async () => {
    const { clock, b, requeued } = batcher();
    const team = { team: "nlp" };
    const a = workspace("a", "phi-3-mini-4k-instruct", team);
    const z = workspace("z", "phi-3-mini-4k-instruct", team);
    const size = "Standard_NV72ads_A10_v5";
    const owned = {
      name: "aks-a-0",
      sku: size,
      labels: team,
      freeGpus: 2,
      shared: { name: "wsa00000000", launchedBy: "default/a" },
    };
    // A user's node: `a`'s own pod holds one of its GPUs, so `a` sees two free and `z` one.
    const user = { name: "user-0", sku: size, labels: team };
    const request = (ws: Workspace, existing: ExistingGpuNode[]) => {
      const need = modelNeed(ws);
      if (need.kind !== "preset") throw new Error("a preset workspace");
      return b.request({ ws, req: need.requirement, existing, excluded: [] });
    };
    request(z, [owned, { ...user, freeGpus: 1 }]);
    request(a, [{ ...user, freeGpus: 2 }]);
    clock.step(1_000);
    await requeued(2);
    const pa = placementOf(request(a, []));
    const pz = placementOf(request(z, []));
    const onUser = [pa, pz].filter((p) => p.existingNodes.includes("user-0"));
    expect(onUser).toHaveLength(1);
    for (const p of [pa, pz]) {
      expect(p.existingNodes).not.toContain("aks-a-0");
      expect(p.sharedNodes ?? []).not.toContainEqual(expect.objectContaining({ name: "wsa00000000" }));
    }
  });
});
