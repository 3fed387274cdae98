import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  instanceTypeLabel,
  workspaceLabel,
  workspaceNamespaceLabel,
  type Workspace,
} from "../../crds/index.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import type { NodeLaunch } from "../nodeprovision/index.ts";
import { desiredMachine, nodeLabelsFor } from "./machines.ts";
import { promisedGpus, reusableNodes, type NodeSharing } from "./nodes.ts";
import { decidePlacement } from "./plan.ts";
import { modelNeed } from "./requirement.ts";

function workspace(name: string, count: number): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: "default", uid: `${name}-uid` },
    resource: { count, labelSelector: { matchLabels: { apps: name } } },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

/** A Ready GPU node with `gpus` free, carrying `labels`. */
function node(name: string, sku: string, gpus: number, labels: Record<string, string>): V1Node {
  return {
    metadata: { name, labels: { ...labels, [instanceTypeLabel]: sku } },
    status: {
      allocatable: { "nvidia.com/gpu": String(gpus) },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

describe("nodes a plan may reuse", () => {
  it("counts the GPUs other pods hold as kube-scheduler does: init containers and overhead included", () => {
    const ws = workspace("byo", 1);
    const gpu = (n: number) => ({ name: "c", resources: { limits: { "nvidia.com/gpu": String(n) } } });
    const pod = (name: string, spec: object): V1Pod =>
      ({
        metadata: { name, namespace: "other" },
        spec: { nodeName: "byo-gpu", ...spec },
        status: { phase: "Running" },
      }) as V1Pod;
    const nodes = [node("byo-gpu", "Standard_NC24ads_A100_v4", 4, nodeLabelsFor(ws))];
    // An init container of 2 while the app takes 1, plus a pod overhead of 1: 3 of 4 held.
    const pods = [
      pod("warm", { containers: [gpu(1)], initContainers: [gpu(2)] }),
      pod("over", { containers: [], overhead: { "nvidia.com/gpu": "1" } }),
    ];
    expect(reusableNodes(ws, nodes, pods).map((n) => n.freeGpus)).toEqual([1]);
  });

  it("offers a ready node that carries the workspace's labels and belongs to no workspace", () => {
    const ws = workspace("byo", 1);
    const nodes = [
      node("byo-gpu", "Standard_NC6s_v3", 1, nodeLabelsFor(ws)),
      node("unlabelled", "Standard_NC6s_v3", 1, {}),
    ];
    expect(reusableNodes(ws, nodes, []).map((n) => n.name)).toEqual(["byo-gpu"]);
  });

  it("counts the GPUs of the workspace's own pods as free for its own plan, others' as taken", () => {
    // A replan on a cached copy that does not show the stored plan yet must find the node it
    // already runs on, not move the workload off it.
    const ws = workspace("mine", 1);
    const byo = node("byo-gpu", "Standard_NC48ads_A100_v4", 2, nodeLabelsFor(ws));
    const pod = (name: string, workspaceName: string) => ({
      metadata: { name, namespace: "default", labels: { [workspaceLabel]: workspaceName } },
      spec: {
        nodeName: "byo-gpu",
        containers: [{ name: "m", resources: { requests: { "nvidia.com/gpu": "1" } } }],
      },
      status: { phase: "Running" },
    });
    expect(reusableNodes(ws, [byo], [pod("a", "mine"), pod("b", "sibling")])[0]!.freeGpus).toBe(1);
    expect(reusableNodes(ws, [byo], [pod("b", "sibling"), pod("c", "other")])).toEqual([]);
  });

  it("never offers the node of one of the workspace's own Machines", () => {
    // Its Machine is kept by name whatever the plan: counting its node as an existing one too
    // would put two replicas on it and delete the Machine under the second.
    const ws = workspace("own", 2);
    const machine = desiredMachine(ws, { name: "Standard_NC4as_T4_v3", gpus: 1 }, 0);
    const own = node(machine.metadata!.name!, "Standard_NC4as_T4_v3", 1, machine.metadata!.labels!);
    const sameNameOtherNamespace = node("other-ns", "Standard_NC4as_T4_v3", 1, {
      ...nodeLabelsFor(ws),
      [workspaceLabel]: "own",
      [workspaceNamespaceLabel]: "elsewhere",
    });
    expect(reusableNodes(ws, [own, sameNameOtherNamespace], [])).toEqual([]);
  });

  it("replans a workspace whose first node came up before its plan was stored into the same Machines", async () => {
    // A manager killed after creating the Machines but before writing status.placement leaves
    // the plan to its successor, which may find the first Machine's node already Ready.
    const planner = new InProcessPlannerClient();
    const ws = workspace("crashed", 2);
    const need = modelNeed(ws);
    const signal = new AbortController().signal;
    const fresh = await decidePlacement(ws, need, { planner, existing: [], launches: [], signal });
    const first = desiredMachine(ws, { name: fresh.placement.instanceType, gpus: 1 }, 0);
    const up = node(first.metadata!.name!, fresh.placement.instanceType, 1, first.metadata!.labels!);
    const again = await decidePlacement(ws, need, {
      planner,
      existing: reusableNodes(ws, [up], []),
      launches: [],
      signal,
    });
    expect(again.placement).toMatchObject({
      instanceType: fresh.placement.instanceType,
      newNodes: fresh.placement.newNodes,
      existingNodes: [],
    });
    expect(fresh.placement.newNodes).toBe(2);
  });
});

/** A workspace of `labels` whose stored plan runs `replicas` pods of `gpus` GPUs. */
function planned(
  name: string,
  labels: Record<string, string>,
  placement: { replicas: number; gpusPerPod: number; existingNodes?: string[]; shared?: string[] },
): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: "default", uid: `${name}-uid` },
    resource: { count: placement.replicas, labelSelector: { matchLabels: labels } },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
    status: {
      placement: {
        instanceType: "Standard_NV72ads_A10_v5",
        replicas: placement.replicas,
        gpusPerPod: placement.gpusPerPod,
        nodesPerReplica: 1,
        newNodes: 1,
        existingNodes: placement.existingNodes ?? [],
        sharedNodes: (placement.shared ?? []).map((n) => ({ name: n, launchedBy: "default/x" })),
      },
    },
  };
}

/** A pod of workspace `ws` asking for `gpus` GPUs, bound to `node` (or not yet). */
function pod(ws: string, gpus: number, node?: string): V1Pod {
  return {
    metadata: { namespace: "default", labels: { [workspaceLabel]: ws } },
    spec: {
      ...(node ? { nodeName: node } : {}),
      containers: [{ name: "c", resources: { requests: { "nvidia.com/gpu": String(gpus) } } }],
    },
    status: { phase: node ? "Running" : "Pending" },
  };
}

/** The Ready node `node` of a Machine named `machine` that `owner` owns. */
function launch(machine: string, owner: string, node: string): NodeLaunch {
  return {
    name: machine,
    workspace: `default/${owner}`,
    readyNode: node,
    instanceType: "Standard_NV72ads_A10_v5",
    deleting: false,
    launched: "True",
  };
}

describe("nodes of other workspaces a plan may share", () => {
  const team = { team: "nlp" };
  const size = "Standard_NV72ads_A10_v5";
  const owner = planned("first", team, { replicas: 1, gpusPerPod: 1 });
  const ownerNode = node("aks-first-0", size, 2, {
    ...team,
    [workspaceLabel]: "first",
    [workspaceNamespaceLabel]: "default",
  });
  const sharing = (workspaces: Workspace[], launches = [launch("wsfirst0000", "first", "aks-first-0")]) =>
    ({ launches, workspaces }) satisfies NodeSharing;

  it("offers the free GPUs of a Ready node another workspace with the same labels owns, as a shared node", () => {
    const later = planned("later", team, { replicas: 1, gpusPerPod: 1 });
    const offered = reusableNodes(
      later,
      [ownerNode],
      [pod("first", 1, "aks-first-0")],
      sharing([owner, later]),
    );
    expect(offered).toEqual([
      expect.objectContaining({
        name: "aks-first-0",
        freeGpus: 1,
        shared: { name: "wsfirst0000", launchedBy: "default/first" },
      }),
    ]);
    // Without the node objects (byo, or nothing known) a workspace's node is never offered.
    expect(reusableNodes(later, [ownerNode], [pod("first", 1, "aks-first-0")])).toEqual([]);
  });

  it("takes the owner from the node object's labels, not the node's, which keep the first owner's name", () => {
    const later = planned("later", team, { replicas: 1, gpusPerPod: 1 });
    // The node's labels still name `first`, but its Machine was handed over to `later`: its own.
    const handedOver = [launch("wsfirst0000", "later", "aks-first-0")];
    expect(reusableNodes(later, [ownerNode], [], sharing([later], handedOver))).toEqual([]);
    // To a third workspace it is `later`'s node, shared through the same object.
    const third = planned("third", team, { replicas: 1, gpusPerPod: 1 });
    expect(reusableNodes(third, [ownerNode], [], sharing([later, third], handedOver))[0]?.shared).toEqual({
      name: "wsfirst0000",
      launchedBy: "default/later",
    });
  });

  it("offers nothing of an owner whose labels differ, even a subset, or that is being deleted", () => {
    const subset = planned("subset", {}, { replicas: 1, gpusPerPod: 1 });
    const wider = planned("wider", { ...team, zone: "a" }, { replicas: 1, gpusPerPod: 1 });
    const wideNode = node("aks-first-0", size, 2, { ...team, zone: "a", [workspaceLabel]: "first" });
    expect(reusableNodes(subset, [ownerNode], [], sharing([owner, subset]))).toEqual([]);
    expect(reusableNodes(wider, [wideNode], [], sharing([owner, wider]))).toEqual([]);
    const leaving = { ...owner, metadata: { ...owner.metadata, deletionTimestamp: "2026-12-06T00:00:00Z" } };
    const later = planned("later", team, { replicas: 1, gpusPerPod: 1 });
    expect(reusableNodes(later, [ownerNode], [], sharing([leaving, later]))).toEqual([]);
  });

  it("counts GPUs promised to plans whose pods are not bound yet as taken, so two plans never promise the same ones", () => {
    const later = planned("later", team, { replicas: 1, gpusPerPod: 1 });
    // The owner's pod is not bound yet: its plan still holds one of the two GPUs.
    expect(reusableNodes(later, [ownerNode], [pod("first", 1)], sharing([owner, later]))[0]?.freeGpus).toBe(
      1,
    );
    // A second plan took the other GPU (stored, pod pending): nothing is left for a third.
    const second = planned("second", team, { replicas: 1, gpusPerPod: 1, shared: ["wsfirst0000"] });
    expect(
      reusableNodes(later, [ownerNode], [pod("first", 1)], sharing([owner, second, later]))[0]?.freeGpus,
    ).toBe(0);
    // Once both pods are bound, the GPUs are counted from the pods and not twice.
    const bound = [pod("first", 1, "aks-first-0"), pod("second", 1, "aks-first-0")];
    expect(reusableNodes(later, [ownerNode], bound, sharing([owner, second, later]))).toEqual([]);
    // The workspace's own promise and pods count as free to itself, so its plan keeps the node.
    expect(
      reusableNodes(second, [ownerNode], [pod("first", 1, "aks-first-0")], sharing([owner, second]))[0]
        ?.freeGpus,
    ).toBe(1);
  });

  it("promises the GPUs of pods still to come on every node of a plan, and nothing once they are bound or the Job has finished", () => {
    const byo = node("byo-0", size, 2, team);
    const w = planned("w", team, {
      replicas: 2,
      gpusPerPod: 1,
      existingNodes: ["byo-0"],
      shared: ["wsfirst0000"],
    });
    const me = planned("me", team, { replicas: 1, gpusPerPod: 1 });
    const s = sharing([w, me]);
    expect(Object.fromEntries(promisedGpus(me, s, [pod("w", 1, "byo-0")]))).toEqual({
      "byo-0": 1,
      "aks-first-0": 1,
    });
    expect(promisedGpus(me, s, [pod("w", 1, "byo-0"), pod("w", 1, "aks-first-0")]).size).toBe(0);
    const tuned: Workspace = {
      ...w,
      tuning: { preset: { name: "phi-3-mini-4k-instruct" }, method: "lora" },
      inference: undefined,
      status: {
        ...w.status,
        conditions: [
          {
            type: "WorkspaceSucceeded",
            status: "True",
            reason: "JobSucceeded",
            message: "",
            lastTransitionTime: "",
          },
        ],
      },
    };
    expect(promisedGpus(me, sharing([tuned, me]), []).size).toBe(0);
    // One of w's pods is bound elsewhere: the other may still come here, so one GPU stays promised.
    expect(reusableNodes(me, [byo], [pod("w", 1, "aks-first-0")], s)).toEqual([
      expect.objectContaining({ name: "byo-0", freeGpus: 1 }),
    ]);
    // With none bound, both may come here: nothing is free, but the node stays listed, so a
    // stored plan on it is not thrown away for a promise that may land elsewhere.
    expect(reusableNodes(me, [byo], [], s)).toEqual([
      expect.objectContaining({ name: "byo-0", freeGpus: 0 }),
    ]);
  });

  it("lets a later plan put its replica on the shared node at no new cost", async () => {
    const planner = new InProcessPlannerClient();
    const later = planned("later", team, { replicas: 1, gpusPerPod: 1 });
    const laterFresh: Workspace = { ...later, status: {} };
    const signal = new AbortController().signal;
    const s = sharing([owner, laterFresh]);
    const { placement } = await decidePlacement(laterFresh, modelNeed(laterFresh), {
      planner,
      existing: reusableNodes(laterFresh, [ownerNode], [pod("first", 1, "aks-first-0")], s),
      launches: s.launches,
      signal,
    });
    expect(placement).toMatchObject({
      newNodes: 0,
      existingNodes: [],
      sharedNodes: [{ name: "wsfirst0000", launchedBy: "default/first" }],
      costPerHour: 0,
    });
  });

  it("keeps a stored plan that shares a node while the node's object exists, whoever owns it, and replans once it goes", async () => {
    const planner = new InProcessPlannerClient();
    const signal = new AbortController().signal;
    const stored = planned("later", team, { replicas: 1, gpusPerPod: 1, shared: ["wsfirst0000"] });
    stored.status!.placement!.newNodes = 0;
    stored.status!.placement!.instanceType = size;
    stored.status!.costPerHour = "0";
    const decide = (launches: NodeLaunch[], workspaces: Workspace[]) =>
      decidePlacement(stored, modelNeed(stored), {
        planner,
        existing: [],
        launches,
        signal,
        workspace: (key) => workspaces.find((w) => `default/${w.metadata!.name}` === key),
      });
    // Handed over to this very workspace: still the same plan.
    const own = await decide([launch("wsfirst0000", "later", "aks-first-0")], [stored]);
    expect(own).toMatchObject({ replanned: false, placement: { sharedNodes: [{ name: "wsfirst0000" }] } });
    // Being deleted, its launcher gone: planned again, without it.
    const leaving = { ...launch("wsfirst0000", "first", "aks-first-0"), deleting: true };
    const again = await decide([leaving], []);
    expect(again.replanned).toBe(true);
    expect(again.placement.sharedNodes).toBeUndefined();
    expect(again.placement.newNodes).toBe(1);
  });
});
