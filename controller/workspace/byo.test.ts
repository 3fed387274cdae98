// byo: the planner's problem with no new nodes, on plain objects.
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { instanceTypeLabel, type Workspace } from "../../crds/index.ts";
import type { KubeObject } from "../../kube/client.ts";
import type { Informer } from "../../kube/informer.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import { ByoProvisioner } from "../nodeprovision/byo.ts";
import { nodeLabelsFor } from "./machines.ts";
import { reusableNodes } from "./nodes.ts";
import { isPlacementError } from "./placement.ts";
import { decidePlacement } from "./plan.ts";
import { modelNeed } from "./requirement.ts";

const planner = new InProcessPlannerClient();
const signal = new AbortController().signal;

function workspace(name: string, count: number, instanceType?: string): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace: "default", uid: `${name}-uid` },
    resource: {
      count,
      labelSelector: { matchLabels: { apps: name } },
      ...(instanceType ? { instanceType } : {}),
    },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

function node(name: string, sku: string, gpus: number, labels: Record<string, string>, ready = true): V1Node {
  return {
    metadata: { name, labels: { ...labels, [instanceTypeLabel]: sku } },
    status: {
      allocatable: { "nvidia.com/gpu": String(gpus) },
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

const place = (ws: Workspace, nodes: V1Node[], pods: V1Pod[] = []) =>
  decidePlacement(ws, modelNeed(ws), {
    planner,
    existing: reusableNodes(ws, nodes, pods),
    launches: [],
    signal,
    existingOnly: true,
  });

describe("byo placement", () => {
  it("puts the replicas on the matching nodes' free GPUs and asks for no new node", async () => {
    const ws = workspace("fits", 2);
    const nodes = [
      node("a", "Standard_NC12s_v3", 2, nodeLabelsFor(ws)),
      node("other", "Standard_NC12s_v3", 2, { apps: "someone-else" }),
    ];
    const { placement } = await place(ws, nodes);
    expect(placement).toMatchObject({ newNodes: 0, existingNodes: ["a"], replicas: 2, costPerHour: 0 });
  });

  it("reads the size of a node the catalogue does not know from its GPU feature discovery labels", async () => {
    const ws = workspace("eks", 1);
    const gfd = { ...nodeLabelsFor(ws), "nvidia.com/gpu.count": "1", "nvidia.com/gpu.memory": "23028" };
    const { placement } = await place(ws, [node("g5", "g5.xlarge", 1, gfd)]);
    expect(placement).toMatchObject({ instanceType: "g5.xlarge", existingNodes: ["g5"], newNodes: 0 });
  });

  it("says how many replicas and GPUs are missing when the nodes do not hold them", async () => {
    const ws = workspace("more", 3);
    const e = await place(ws, [node("a", "Standard_NC6s_v3", 1, nodeLabelsFor(ws))]).catch((x: unknown) => x);
    expect(isPlacementError(e) && e.reason).toBe("NotEnoughNodes");
    expect(String((e as Error).message)).toMatch(
      /2 replica\(s\) of 1 GPU\(s\) do not fit: 2 GPU\(s\) missing.*1 node\(s\), 1 free GPU/,
    );
  });

  it("does so for a named size too, counting only nodes of that size", async () => {
    const ws = workspace("named", 2, "Standard_NC6s_v3");
    const nodes = [
      node("v100", "Standard_NC6s_v3", 1, nodeLabelsFor(ws)),
      node("t4", "Standard_NC4as_T4_v3", 1, nodeLabelsFor(ws)),
    ];
    const e = await place(ws, nodes).catch((x: unknown) => x);
    expect(isPlacementError(e) && e.reason).toBe("NotEnoughNodes");
    expect(String((e as Error).message)).toMatch(
      /1 replica\(s\) of 1 GPU\(s\) do not fit.*Standard_NC6s_v3 GPU nodes.*\(1 node\(s\)/,
    );
  });

  it("keeps counting the GPUs the workspace's own pods hold as its own", async () => {
    const ws = workspace("running", 1);
    const own: V1Pod = {
      metadata: { namespace: "default", labels: { "kaito.sh/workspace": "running" } },
      spec: {
        nodeName: "a",
        containers: [{ name: "c", resources: { requests: { "nvidia.com/gpu": "1" } } }],
      },
      status: { phase: "Running" },
    };
    const { placement } = await place(ws, [node("a", "Standard_NC6s_v3", 1, nodeLabelsFor(ws))], [own]);
    expect(placement.existingNodes).toEqual(["a"]);
  });
});

describe("the byo provisioner", () => {
  const informer = <T>(items: T[]) => ({ list: () => items }) as unknown as Informer<T & KubeObject>;

  it("is ready while the planned nodes are Ready, and waits when one is not", async () => {
    const nodes = [node("a", "Standard_NC6s_v3", 1, {}), node("b", "Standard_NC6s_v3", 1, {}, false)];
    const byo = new ByoProvisioner({ nodes: informer(nodes), workspaces: informer<Workspace>([]) });
    const request = { instanceType: "Standard_NC6s_v3", newNodes: 0, gpusPerNode: 1, osDiskGiB: 128 };
    expect(await byo.reconcile(workspace("w", 1), { ...request, existingNodes: ["a"] })).toEqual({
      kind: "ready",
      nodes: ["a"],
      machines: [],
    });
    expect(await byo.reconcile(workspace("w", 2), { ...request, existingNodes: ["a", "b"] })).toMatchObject({
      kind: "waiting",
      ready: 1,
      wanted: 2,
    });
    expect(await byo.delete()).toBe(true);
  });

  it("wakes the workspaces that wait for nodes, and those running on the node that changed", () => {
    const waiting = { ...workspace("waiting", 1), status: { conditions: [] } };
    const running = {
      ...workspace("running", 1),
      status: {
        workerNodes: ["a"],
        conditions: [
          {
            type: "ResourceReady" as const,
            status: "True" as const,
            reason: "NodesReady",
            message: "",
            lastTransitionTime: "",
          },
        ],
      },
    };
    const elsewhere = {
      ...running,
      metadata: { ...running.metadata, name: "elsewhere" },
      status: { ...running.status, workerNodes: ["z"] },
    };
    const byo = new ByoProvisioner({
      nodes: informer<V1Node>([]),
      workspaces: informer([waiting, running, elsewhere]),
    });
    expect(byo.workspacesOf({ metadata: { name: "a" } })).toEqual(["default/waiting", "default/running"]);
  });
});
