import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  instanceTypeLabel,
  workspaceLabel,
  workspaceNamespaceLabel,
  type Workspace,
} from "../../crds/index.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import { desiredMachine, nodeLabelsFor } from "./machines.ts";
import { reusableNodes } from "./nodes.ts";
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
  it("offers a ready node that carries the workspace's labels and belongs to no workspace", () => {
    const ws = workspace("byo", 1);
    const nodes = [
      node("byo-gpu", "Standard_NC6s_v3", 1, nodeLabelsFor(ws)),
      node("unlabelled", "Standard_NC6s_v3", 1, {}),
    ];
    expect(reusableNodes(ws, nodes, []).map((n) => n.name)).toEqual(["byo-gpu"]);
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
