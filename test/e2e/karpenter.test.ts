// `--node-provisioner karpenter` against the real Karpenter (its kwok provider): the KAITO examples
// and a planner-sized workspace get their nodes from NodeClaims only, and a launch Karpenter refuses
// for capacity is replanned on another size without ever creating the refused one again; a
// NodeClaim another workspace shares is handed to it when its owner goes (sharing.ts).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { V1Node, V1Pod } from "@kubernetes/client-node";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import type { KubeObject } from "../../kube/client.ts";
import { resources } from "../../kube/resources.ts";
import type { Machine, NodeClaim, Workspace } from "../../crds/index.ts";
import { kwokNodeClass } from "../../controller/nodeprovision/index.ts";
import type { RunningKarpenter } from "../../localcluster/karpenter.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { startTestKarpenter } from "./karpenter.ts";
import { sharedNodeScenario } from "./sharing.ts";
import { deleteWorkspaces } from "./workspaces.ts";

const cluster = useTestCluster();
let karpenter: RunningKarpenter;
beforeAll(async () => {
  karpenter = await startTestKarpenter(cluster.kubeconfigPath);
}, 600_000);
afterAll(async () => {
  await karpenter?.stop();
});

type Ws = Workspace & KubeObject;
type Nc = NodeClaim & KubeObject;
const examplesDir = path.resolve(import.meta.dirname, "../../../shared/examples");
const condition = (ws: Ws, type: string) => ws.status?.conditions?.find((c) => c.type === type)?.status;
const inNamespace = (ns: string) => (o: KubeObject) =>
  o.metadata?.labels?.["kaito.sh/workspacenamespace"] === ns;

describe("the karpenter node provisioner with the real Karpenter", () => {
  let operator: RunningOperator;
  beforeAll(async () => {
    operator = await startOperator(cluster.kubeconfigPath, {
      nodeProvisioner: { mode: "karpenter", nodeClass: kwokNodeClass },
    });
  });
  afterAll(async () => {
    await operator?.stop();
  });

  it("runs the KAITO examples and an auto-sized workspace on nodes Karpenter registered, and leaves nothing behind", async () => {
    const client = operator.client;
    const namespace = await cluster.newNamespace("karpenter");
    const manifests = readdirSync(examplesDir)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => parse(readFileSync(path.join(examplesDir, f), "utf8")) as Ws);
    manifests.push({
      apiVersion: "kaito.sh/v1alpha1",
      kind: "Workspace",
      metadata: { name: "auto-sized" },
      resource: { labelSelector: { matchLabels: { apps: "auto-sized" } } },
      inference: { preset: { name: "phi-3-mini-4k-instruct" } },
    });
    for (const m of manifests) m.metadata = { ...m.metadata, namespace };
    await Promise.all(manifests.map((m) => client.create(resources.workspaces, m)));

    const ready = await until(
      "every workspace ready (inference) or its Job started (tuning)",
      async () => {
        const list = (await client.list<Ws>(resources.workspaces, { namespace })).items;
        const done = list.filter((w) =>
          w.tuning ? condition(w, "JobStarted") === "True" : condition(w, "WorkspaceReady") === "True",
        );
        return done.length === manifests.length ? list : undefined;
      },
      180_000,
    );
    expect(ready.find((w) => w.metadata!.name === "auto-sized")?.status?.instanceType).toBeTruthy();

    // No Machine at all; one Ready NodeClaim per planned node, each with a `ws` + 9 hex name.
    const machines = (await client.list<Machine & KubeObject>(resources.machines)).items.filter(
      inNamespace(namespace),
    );
    expect(machines).toEqual([]);
    const claims = (await client.list<Nc>(resources.nodeClaims)).items.filter(inNamespace(namespace));
    const planned = ready.reduce((sum, w) => sum + (w.status?.placement?.newNodes ?? 0), 0);
    expect(claims).toHaveLength(planned);
    for (const c of claims) {
      expect(c.metadata!.name).toMatch(/^ws[0-9a-f]{9}$/);
      expect(c.status?.conditions?.find((x) => x.type === "Ready")?.status).toBe("True");
      expect(c.metadata?.annotations?.["karpenter.sh/do-not-disrupt"]).toBe("true");
    }

    // Every node a workspace pod runs on was registered by Karpenter for one of those claims.
    const pods = (await client.list<V1Pod & KubeObject>(resources.pods, { namespace })).items;
    const podNodes = new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => !!n));
    expect(podNodes.size).toBeGreaterThan(0);
    const nodes = (await client.list<V1Node & KubeObject>(resources.nodes)).items;
    for (const name of podNodes) {
      const node = nodes.find((n) => n.metadata!.name === name)!;
      expect(node.metadata?.labels?.["karpenter.sh/registered"]).toBe("true");
      const claim = claims.find((c) => c.status?.providerID === node.spec?.providerID);
      expect(claim, `node ${name} has a NodeClaim`).toBeDefined();
      expect(claim!.status?.nodeName).toBe(name);
    }

    await deleteWorkspaces(client, namespace);
    const nodeNames = new Set(claims.map((c) => c.status?.nodeName));
    await until("the NodeClaims and their nodes to be gone", async () => {
      const left = (await client.list<Nc>(resources.nodeClaims)).items.filter(inNamespace(namespace));
      const nodesLeft = (await client.list<V1Node & KubeObject>(resources.nodes)).items.filter((n) =>
        nodeNames.has(n.metadata!.name!),
      );
      return left.length === 0 && nodesLeft.length === 0 ? true : undefined;
    });
  }, 300_000);

  it("hands a NodeClaim shared beyond its batch to the workspace still on it when its owner goes", async () => {
    await sharedNodeScenario(
      operator.client,
      await cluster.newNamespace("karpenter-share"),
      resources.nodeClaims,
    );
  }, 300_000);
});

describe("a launch Karpenter refuses for insufficient capacity", () => {
  // Karpenter's kwok provider refuses a claim whose KWOKNodeClass does not exist as insufficient
  // capacity: it deletes the claim and records an InsufficientCapacityError event, as a cloud out
  // of capacity does (lifecycle/launch.go). Until the class exists, every size fails that way.
  const nodeClass = { ...kwokNodeClass, name: `absent-${Date.now().toString(36)}` };
  let operator: RunningOperator;
  beforeAll(async () => {
    operator = await startOperator(cluster.kubeconfigPath, {
      nodeProvisioner: { mode: "karpenter", nodeClass },
    });
  });
  afterAll(async () => {
    await operator?.client
      .delete(
        {
          group: "karpenter.kwok.sh",
          version: "v1alpha1",
          plural: "kwoknodeclasses",
          kind: "KWOKNodeClass",
          namespaced: false,
        },
        nodeClass.name,
      )
      .catch(() => undefined);
    await operator?.stop();
  });

  it("is replanned on another size, never re-created on the refused one, and runs once capacity is there", async () => {
    const client = operator.client;
    const namespace = await cluster.newNamespace("karpenter-ice");
    await client.create<Ws>(resources.workspaces, {
      apiVersion: "kaito.sh/v1alpha1",
      kind: "Workspace",
      metadata: { name: "ice", namespace },
      resource: { labelSelector: { matchLabels: { apps: "ice" } } },
      inference: { preset: { name: "phi-3-mini-4k-instruct" } },
    });
    const failed = await until(
      "two sizes recorded as failed",
      async () => {
        const w = await client.get<Ws>(resources.workspaces, "ice", namespace);
        const f = w.status?.failedInstanceTypes ?? [];
        return f.length >= 2 ? f : undefined;
      },
      120_000,
    );
    // Capacity comes back: the class exists from now on.
    await client.create(
      {
        group: "karpenter.kwok.sh",
        version: "v1alpha1",
        plural: "kwoknodeclasses",
        kind: "KWOKNodeClass",
        namespaced: false,
      },
      {
        apiVersion: "karpenter.kwok.sh/v1alpha1",
        kind: "KWOKNodeClass",
        metadata: { name: nodeClass.name },
        spec: { nodeRegistrationDelay: "0s" },
      },
    );
    const ws = await until(
      "the workspace to be ready once the class exists",
      async () => {
        const w = await client.get<Ws>(resources.workspaces, "ice", namespace);
        return condition(w, "WorkspaceReady") === "True" ? w : undefined;
      },
      120_000,
    );
    expect(failed).not.toContain(ws.status!.instanceType);
    // Each size was tried once: one NodeClaimCreated event per size, and the refused ones never again.
    const events = (
      await client.list<KubeObject & { reason?: string; message?: string; count?: number }>(
        resources.events,
        {
          namespace,
          fieldSelector: "involvedObject.name=ice",
        },
      )
    ).items;
    const created = events.filter((e) => e.reason === "NodeClaimCreated");
    const sizes = created.map((e) => /\((.+)\)/.exec(e.message ?? "")?.[1]);
    expect(new Set(sizes).size).toBe(sizes.length);
    expect(created.every((e) => (e.count ?? 1) === 1)).toBe(true);
    for (const size of ws.status!.failedInstanceTypes ?? []) expect(sizes).toContain(size);
    expect(events.some((e) => e.reason === "InstanceTypeUnavailable")).toBe(true);
    await deleteWorkspaces(client, namespace);
  }, 300_000);
});
