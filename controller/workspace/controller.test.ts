// WorkspaceReconciler.reconcile() on plain objects and the FakeClock: a fake API server that keeps
// the Workspaces and answers the finalizer and status patches as kube-apiserver does, a
// NodeProvisioner whose answers the test programs, and the real in-process planner.
import { describe, expect, it } from "vitest";
import type { Workspace, WorkspaceCondition } from "../../crds/index.ts";
import { FakeClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log.ts";
import type { KubeClient, KubeObject, PatchType } from "../../kube/client.ts";
import { timestamp } from "../../kube/conditions.ts";
import { KubeApiError } from "../../kube/errors.ts";
import { MemoryEventRecorder } from "../../kube/events.ts";
import type { Informer } from "../../kube/informer.ts";
import type { Resource } from "../../kube/resources.ts";
import { isTerminalError, type ReconcileContext } from "../../kube/runtime/reconciler.ts";
import { InProcessPlannerClient } from "../../planner/grpc/index.ts";
import type { NodeProvisioner, NodeRequest, ResourceState } from "../nodeprovision/index.ts";
import { PlacementBatcher } from "./batch.ts";
import { WorkspaceReconciler, workspaceFinalizer } from "./controller.ts";

const ctx: ReconcileContext = { log: silentLogger, signal: new AbortController().signal };

interface PatchCall {
  resource: string;
  name: string;
  body: Record<string, unknown>;
  type: PatchType;
  subresource?: string;
}

const apiError = (statusCode: number, reason: "NotFound" | "Conflict", message: string) =>
  new KubeApiError({ statusCode, reason, message, method: "PATCH", path: "" });

/**
 * What the reconciler asks of the API server, kept in memory: Workspaces (merge patches of
 * metadata, refused on a stale resourceVersion; merge patches of the status subresource, where
 * null removes a key; an object whose last finalizer goes while it is being deleted is gone) and
 * the workload's objects (server-side applies are stored as sent).
 */
class FakeApiServer {
  readonly patches: PatchCall[] = [];
  readonly workspaces = new Map<string, Workspace & KubeObject>();
  readonly objects = new Map<string, KubeObject>();
  private version = 100;
  private readonly log: string[];

  constructor(log: string[]) {
    this.log = log;
  }

  add(ws: Workspace & KubeObject): void {
    const stored = structuredClone(ws);
    stored.metadata!.resourceVersion = String(++this.version);
    this.workspaces.set(`${stored.metadata!.namespace}/${stored.metadata!.name}`, stored);
  }

  /** The Workspace as the informer would deliver it. */
  current(name: string): Workspace & KubeObject {
    const ws = this.workspaces.get(`default/${name}`);
    if (!ws) throw new Error(`no workspace ${name}`);
    return structuredClone(ws);
  }

  statusPatches(): Record<string, unknown>[] {
    return this.patches
      .filter((p) => p.subresource === "status")
      .map((p) => p.body.status as Record<string, unknown>);
  }

  async patch<T extends KubeObject>(
    r: Resource,
    name: string,
    namespace: string | undefined,
    body: Record<string, unknown>,
    type: PatchType,
    o: { subresource?: "status" } = {},
  ): Promise<T> {
    this.patches.push({
      resource: r.plural,
      name,
      body: structuredClone(body),
      type,
      subresource: o.subresource,
    });
    this.log.push(`patch ${r.plural}${o.subresource ? "/status" : ""}`);
    const key = `${namespace}/${name}`;
    if (r.plural !== "workspaces") {
      this.objects.set(`${r.plural}/${key}`, body as KubeObject);
      return body as T;
    }
    const stored = this.workspaces.get(key);
    if (!stored) throw apiError(404, "NotFound", `workspaces "${name}" not found`);
    if (type !== "merge") throw new Error("the fake takes merge patches of Workspaces only");
    if (o.subresource === "status") {
      const status: Record<string, unknown> = { ...stored.status };
      for (const [k, v] of Object.entries(body.status as Record<string, unknown>)) {
        if (v === null) delete status[k];
        else status[k] = v;
      }
      stored.status = status;
    } else {
      const meta = body.metadata as { finalizers?: string[]; resourceVersion?: string };
      if (meta.resourceVersion && meta.resourceVersion !== stored.metadata!.resourceVersion)
        throw apiError(409, "Conflict", "the object has been modified");
      if (meta.finalizers) stored.metadata!.finalizers = meta.finalizers;
      if (stored.metadata!.deletionTimestamp && !stored.metadata!.finalizers?.length) {
        this.workspaces.delete(key);
        return structuredClone(stored) as unknown as T;
      }
    }
    stored.metadata!.resourceVersion = String(++this.version);
    return structuredClone(stored) as unknown as T;
  }

  async get<T extends KubeObject>(r: Resource, name: string, namespace?: string): Promise<T> {
    const found = this.objects.get(`${r.plural}/${namespace}/${name}`);
    if (!found) throw apiError(404, "NotFound", `${r.plural} "${name}" not found`);
    return structuredClone(found) as T;
  }

  async create<T extends KubeObject>(r: Resource, obj: T): Promise<T> {
    this.objects.set(`${r.plural}/${obj.metadata!.namespace}/${obj.metadata!.name}`, obj);
    return obj;
  }

  async delete(r: Resource, name: string, namespace?: string): Promise<unknown> {
    this.objects.delete(`${r.plural}/${namespace}/${name}`);
    return {};
  }
}

/** A NodeProvisioner whose reconcile answers what the test programs, recording every call. */
class FakeProvisioner implements NodeProvisioner {
  readonly mode = "builtin" as const;
  readonly createsNodes = true;
  readonly kind = "Machine";
  readonly watched = { list: () => [], get: () => undefined } as unknown as Informer<KubeObject>;
  readonly requests: NodeRequest[] = [];
  readonly cleared: string[] = [];
  deletes = 0;
  /** What delete() reports: whether every object of the workspace is gone. */
  gone = false;
  answer: (req: NodeRequest) => ResourceState = (req) => ({
    kind: "waiting",
    ready: 0,
    wanted: req.newNodes,
    machines: machineNames(req),
  });
  private readonly log: string[];

  constructor(log: string[]) {
    this.log = log;
  }

  workspacesOf(): string[] {
    return [];
  }
  async reconcile(_ws: Workspace, request: NodeRequest): Promise<ResourceState> {
    this.log.push("provisioner.reconcile");
    this.requests.push(request);
    return this.answer(request);
  }
  async clearFailed(ws: Workspace): Promise<void> {
    this.cleared.push(ws.metadata!.name!);
  }
  async delete(): Promise<boolean> {
    this.log.push("provisioner.delete");
    this.deletes++;
    return this.gone;
  }
  launches() {
    return [];
  }
}

const machineNames = (req: NodeRequest) =>
  Array.from({ length: req.newNodes }, (_, i) => `${req.instanceType.toLowerCase()}-${i}`);

const launchFailed = (req: NodeRequest): ResourceState => ({
  kind: "launchFailed",
  instanceType: req.instanceType,
  reason: "InsufficientCapacity",
  message: "the region has no capacity for the size",
  machines: machineNames(req),
});

function setup(o: { batching?: boolean } = {}) {
  const log: string[] = [];
  const clock = new FakeClock();
  const kube = new FakeApiServer(log);
  const provisioner = new FakeProvisioner(log);
  const recorder = new MemoryEventRecorder();
  const none = { get: () => undefined };
  const planner = new InProcessPlannerClient();
  /** The keys the batcher requeued, and a wait for the next one. */
  const enqueued: string[] = [];
  let onEnqueue: (() => void) | undefined;
  const nextEnqueue = () => new Promise<void>((resolve) => (onEnqueue = resolve));
  const batcher = o.batching
    ? new PlacementBatcher({
        planner,
        clock,
        idleMs: 1_000,
        maxMs: 10_000,
        enqueue: (key) => {
          enqueued.push(key);
          onEnqueue?.();
        },
      })
    : undefined;
  const reconciler = new WorkspaceReconciler({
    client: kube as unknown as KubeClient,
    planner,
    batcher,
    recorder,
    clock,
    provisioner,
    nodes: { list: () => [] },
    pods: { list: () => [] },
    workspaces: { list: () => [...kube.workspaces.values()], get: (k) => kube.workspaces.get(k) },
    workloads: { deployments: none, statefulSets: none, jobs: none, services: none },
    schedulerName: "kaito-scheduler",
  });
  /** One pass on the stored Workspace; the patches and events it made. */
  const pass = async (name: string) => {
    const patches = kube.patches.length;
    const events = recorder.events.length;
    const result = await reconciler.reconcile(kube.current(name), ctx);
    return { result, patches: kube.patches.slice(patches), events: recorder.events.slice(events) };
  };
  return { log, clock, kube, provisioner, recorder, reconciler, pass, enqueued, nextEnqueue };
}

function workspace(
  name: string,
  o: { instanceType?: string; count?: number; preset?: string; finalizers?: string[] } = {},
): Workspace & KubeObject {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: {
      name,
      namespace: "default",
      uid: `${name}-uid`,
      generation: 1,
      finalizers: o.finalizers ?? [workspaceFinalizer],
    },
    resource: {
      count: o.count ?? 1,
      labelSelector: { matchLabels: { apps: name } },
      ...(o.instanceType ? { instanceType: o.instanceType } : {}),
    },
    inference: { preset: { name: o.preset ?? "phi-3-mini-4k-instruct" } },
  };
}

const condition = (ws: Workspace, type: WorkspaceCondition["type"]) =>
  ws.status?.conditions?.find((c) => c.type === type);

describe("the finalizer", () => {
  it("is added to a new Workspace, at the resourceVersion read, before anything else happens", async () => {
    const env = setup();
    env.kube.add(workspace("fresh", { finalizers: [] }));
    const read = env.kube.current("fresh").metadata!.resourceVersion;
    await env.pass("fresh");
    expect(env.log).toEqual(["patch workspaces", "provisioner.reconcile", "patch workspaces/status"]);
    expect(env.kube.patches[0]).toEqual({
      resource: "workspaces",
      name: "fresh",
      type: "merge",
      subresource: undefined,
      body: { metadata: { finalizers: [workspaceFinalizer], resourceVersion: read } },
    });
    expect(env.kube.current("fresh").metadata?.finalizers).toEqual([workspaceFinalizer]);
    // The second pass finds it there and patches no metadata.
    const again = await env.pass("fresh");
    expect(again.patches.filter((p) => !p.subresource)).toEqual([]);
  });

  it("is added after the ones already there, and a stale copy is refused rather than overwriting them", async () => {
    const env = setup();
    env.kube.add(workspace("others", { finalizers: ["example.com/keep"] }));
    const stale = env.kube.current("others");
    await env.pass("others");
    expect(env.kube.current("others").metadata?.finalizers).toEqual(["example.com/keep", workspaceFinalizer]);
    const stale2 = { ...stale, metadata: { ...stale.metadata, finalizers: ["example.com/keep"] } };
    // The cache's copy from before our own write is not acted on: the pass waits for the informer.
    const patches = env.kube.patches.length;
    expect(await env.reconciler.reconcile(stale2, ctx)).toEqual({ requeueAfterMs: 200 });
    expect(env.kube.patches.length).toBe(patches);
    // A stale copy this reconciler never wrote past (another writer's, or before a restart) is
    // refused by the API server rather than overwriting the finalizers.
    const other = { ...stale2, metadata: { ...stale2.metadata, resourceVersion: "0" } };
    await expect(env.reconciler.reconcile(other, ctx)).rejects.toMatchObject({ statusCode: 409 });
  });

  it("stays while the provisioner still has objects: WorkspaceDeleting says so, and nothing is planned", async () => {
    const env = setup();
    const ws = workspace("leaving", { finalizers: ["example.com/keep", workspaceFinalizer] });
    ws.metadata!.deletionTimestamp = timestamp(env.clock.now());
    env.kube.add(ws);
    const { result, patches, events } = await env.pass("leaving");
    expect(result).toEqual({});
    expect(env.provisioner.deletes).toBe(1);
    expect(env.provisioner.requests).toEqual([]);
    expect(patches.map((p) => p.subresource)).toEqual(["status"]);
    expect(condition(env.kube.current("leaving"), "WorkspaceDeleting")).toEqual({
      type: "WorkspaceDeleting",
      status: "True",
      reason: "DeletingMachines",
      message: "Waiting for the workspace's Machines to be deleted.",
      observedGeneration: 1,
      lastTransitionTime: timestamp(env.clock.now()),
    });
    expect(events).toEqual([]);
    // Still waiting on the next pass: the condition is already there, so nothing is written.
    env.clock.step(5_000);
    const waiting = await env.pass("leaving");
    expect(env.provisioner.deletes).toBe(2);
    expect(waiting.patches).toEqual([]);
  });

  it("is removed, the others kept, once the provisioner's objects are gone, and Deleted is recorded", async () => {
    const env = setup();
    const ws = workspace("gone", { finalizers: ["example.com/keep", workspaceFinalizer] });
    ws.metadata!.deletionTimestamp = timestamp(env.clock.now());
    env.kube.add(ws);
    const read = env.kube.current("gone").metadata!.resourceVersion;
    env.provisioner.gone = true;
    const { patches, events } = await env.pass("gone");
    expect(env.log).toEqual(["provisioner.delete", "patch workspaces"]);
    expect(patches[0]!.body).toEqual({
      metadata: { finalizers: ["example.com/keep"], resourceVersion: read },
    });
    expect(env.kube.current("gone").metadata?.finalizers).toEqual(["example.com/keep"]);
    expect(events).toEqual([
      {
        object: "default/gone",
        type: "Normal",
        reason: "Deleted",
        message: "All Machines of the workspace are gone.",
      },
    ]);
  });

  it("lets the API server delete the Workspace when ours was the last finalizer", async () => {
    const env = setup();
    const ws = workspace("last");
    ws.metadata!.deletionTimestamp = timestamp(env.clock.now());
    env.kube.add(ws);
    env.provisioner.gone = true;
    await env.pass("last");
    expect(env.kube.workspaces.has("default/last")).toBe(false);
  });

  it("a deleted Workspace without our finalizer is left alone", async () => {
    const env = setup();
    const ws = workspace("foreign", { finalizers: ["example.com/keep"] });
    ws.metadata!.deletionTimestamp = timestamp(env.clock.now());
    env.kube.add(ws);
    const { result, patches, events } = await env.pass("foreign");
    expect(result).toEqual({});
    expect(env.log).toEqual([]);
    expect(patches).toEqual([]);
    expect(events).toEqual([]);
  });
});

describe("an auto-sized workspace whose launch fails", () => {
  it("drops the plan, remembers the size, and the next pass plans another", async () => {
    const env = setup();
    env.kube.add(workspace("auto"));
    const first = await env.pass("auto");
    const chosen = env.kube.current("auto").status!.placement!.instanceType!;
    expect(chosen).toBeTruthy();
    expect(first.events.map((e) => e.reason)).toEqual(["PlanChosen"]);
    expect(env.provisioner.requests.map((r) => r.instanceType)).toEqual([chosen]);

    env.provisioner.answer = launchFailed;
    const failed = await env.pass("auto");
    expect(failed.result).toEqual({ requeueAfterMs: 0 });
    const after = env.kube.current("auto");
    expect(after.status?.placement).toBeUndefined();
    expect(failed.patches).toHaveLength(1);
    expect(failed.patches[0]!.body.status).toMatchObject({ placement: null, failedInstanceTypes: [chosen] });
    expect(after.status?.failedInstanceTypes).toEqual([chosen]);
    expect(condition(after, "ResourceReady")).toMatchObject({
      status: "Unknown",
      reason: "Replanning",
      message: `${chosen} could not be launched (InsufficientCapacity); choosing another size.`,
    });
    expect(failed.events).toEqual([
      {
        object: "default/auto",
        type: "Warning",
        reason: "InstanceTypeUnavailable",
        message: `${chosen} could not be launched (the region has no capacity for the size); replanning without it.`,
      },
    ]);
    // Only a user-named size's failed launch is cleared (for its retry after the back-off).
    expect(env.provisioner.cleared).toEqual([]);

    env.provisioner.answer = (req) => ({ kind: "waiting", ready: 0, wanted: req.newNodes, machines: [] });
    const replanned = await env.pass("auto");
    const next = env.kube.current("auto").status!.placement!.instanceType!;
    expect(next).toBeTruthy();
    expect(next).not.toBe(chosen);
    expect(env.provisioner.requests.at(-1)!.instanceType).toBe(next);
    expect(replanned.events.map((e) => e.reason)).toEqual(["PlanChosen"]);
    expect(condition(env.kube.current("auto"), "ResourceReady")?.reason).toBe("WaitingForNodes");
  });
});

describe("a workspace planned with the ones that arrive with it", () => {
  it("waits for its batch with ResourceReady Unknown Planning, asking nothing of the provisioner", async () => {
    const env = setup({ batching: true });
    env.kube.add(workspace("early"));
    const waiting = await env.pass("early");
    // The window closes after 1 s idle; the batcher requeues it then, and 30 s later is the safety net.
    expect(waiting.result).toEqual({ requeueAfterMs: 31_000 });
    expect(env.provisioner.requests).toEqual([]);
    expect(waiting.events).toEqual([]);
    expect(waiting.patches).toHaveLength(1);
    const after = env.kube.current("early");
    expect(condition(after, "ResourceReady")).toMatchObject({
      status: "Unknown",
      reason: "Planning",
      message: "Waiting for the workspaces that arrived with it, to plan them together.",
    });
    // The pass ended at placement: the workload's conditions are not set yet.
    expect(condition(after, "InferenceReady")).toBeUndefined();
    expect(after.status?.state).toBe("Pending");

    const planned = env.nextEnqueue();
    env.clock.step(1_000);
    await planned;
    expect(env.enqueued).toEqual(["default/early"]);
    const placed = await env.pass("early");
    const chosen = env.kube.current("early").status?.placement?.instanceType;
    expect(chosen).toBeTruthy();
    expect(placed.events.map((e) => e.reason)).toEqual(["PlanChosen"]);
    expect(env.provisioner.requests.map((r) => r.instanceType)).toEqual([chosen]);
    expect(condition(env.kube.current("early"), "ResourceReady")?.reason).toBe("WaitingForNodes");
  });

  it("is dropped from its batch when deleted before the batch is planned", async () => {
    const env = setup({ batching: true });
    env.kube.add(workspace("undecided"));
    await env.pass("undecided");
    // Its batch's window is open: one timer on the clock.
    expect(env.clock.pending()).toBe(1);
    const ws = env.kube.current("undecided");
    ws.metadata!.deletionTimestamp = timestamp(env.clock.now());
    env.kube.add(ws);
    env.provisioner.gone = true;
    await env.pass("undecided");
    expect(env.kube.workspaces.has("default/undecided")).toBe(false);
    // The window closed with its only workspace gone: nothing is left to plan or requeue.
    expect(env.clock.pending()).toBe(0);
    env.clock.step(10_000);
    expect(env.enqueued).toEqual([]);
  });
});

describe("a user-named size whose launch fails", () => {
  it("is reported, not asked for again until 60 s after the failure, then tried again", async () => {
    const env = setup();
    env.kube.add(workspace("named", { instanceType: "Standard_NC12s_v3" }));
    env.provisioner.answer = launchFailed;
    const failed = await env.pass("named");
    expect(failed.result).toEqual({ requeueAfterMs: 60_000 });
    const after = env.kube.current("named");
    expect(condition(after, "ResourceReady")).toEqual({
      type: "ResourceReady",
      status: "False",
      reason: "InsufficientCapacity",
      message: "Standard_NC12s_v3 could not be launched: the region has no capacity for the size",
      observedGeneration: 1,
      lastTransitionTime: timestamp(env.clock.now()),
    });
    expect(after.status?.placement?.instanceType).toBe("Standard_NC12s_v3");
    expect(after.status?.state).toBe("NotReady");
    expect(failed.events).toEqual([
      {
        object: "default/named",
        type: "Warning",
        reason: "InsufficientCapacity",
        message:
          "Standard_NC12s_v3 could not be launched: the region has no capacity for the size; retrying in 60 s.",
      },
    ]);
    expect(env.provisioner.cleared).toEqual(["named"]);
    expect(env.provisioner.requests).toHaveLength(1);

    env.clock.step(30_000);
    const early = await env.pass("named");
    expect(early.result).toEqual({ requeueAfterMs: 30_000 });
    expect(env.provisioner.requests).toHaveLength(1);
    expect(early.patches).toEqual([]);
    expect(early.events).toEqual([]);

    env.clock.step(29_000);
    expect((await env.pass("named")).result).toEqual({ requeueAfterMs: 1_000 });
    expect(env.provisioner.requests).toHaveLength(1);

    env.clock.step(1_000);
    env.provisioner.answer = (req) => ({ kind: "waiting", ready: 0, wanted: 1, machines: machineNames(req) });
    const retried = await env.pass("named");
    expect(env.provisioner.requests).toHaveLength(2);
    expect(env.provisioner.requests[1]).toMatchObject({ instanceType: "Standard_NC12s_v3", newNodes: 1 });
    expect(retried.result).toEqual({});
    expect(condition(env.kube.current("named"), "ResourceReady")).toMatchObject({
      status: "Unknown",
      reason: "WaitingForNodes",
      message: "0 of 1 node(s) ready.",
      lastTransitionTime: timestamp(env.clock.now()),
    });
  });
});

describe("failures", () => {
  it("a UserError becomes InvalidSpec on the status, then a TerminalError", async () => {
    const env = setup();
    env.kube.add(workspace("bad", { preset: "no-such-model" }));
    const error = await env.pass("bad").catch((e: unknown) => e);
    expect(isTerminalError(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain("no-such-model");
    // The status was written before the throw.
    const after = env.kube.current("bad");
    for (const type of ["ResourceReady", "WorkspaceReady"] as const)
      expect(condition(after, type)).toMatchObject({ status: "False", reason: "InvalidSpec", message });
    expect(after.status?.state).toBe("NotReady");
    expect(after.status?.observedGeneration).toBe(1);
    expect(env.recorder.events).toEqual([
      { object: "default/bad", type: "Warning", reason: "InvalidSpec", message },
    ]);
    expect(env.provisioner.requests).toEqual([]);
  });

  it("a PlacementError NoCapacity is reported and looked at again in 300 s, without a throw", async () => {
    const env = setup();
    const ws = workspace("nowhere");
    // Every size in the catalogue has failed to launch for it: nothing is left to plan with.
    const every = (await new InProcessPlannerClient().catalog()).map((s) => s.name).sort();
    ws.status = { failedInstanceTypes: every };
    env.kube.add(ws);
    const { result, events } = await env.pass("nowhere");
    expect(result).toEqual({ requeueAfterMs: 300_000 });
    const after = env.kube.current("nowhere");
    const message = "every GPU size on offer failed to launch; check the cloud's quota and capacity.";
    for (const type of ["ResourceReady", "WorkspaceReady"] as const)
      expect(condition(after, type)).toMatchObject({ status: "False", reason: "NoCapacity", message });
    expect(events).toEqual([{ object: "default/nowhere", type: "Warning", reason: "NoCapacity", message }]);
    expect(env.provisioner.requests).toEqual([]);
  });

  it("an unexpected error is rethrown as it was, after WorkspaceReady Unknown ReconcileError was written", async () => {
    const env = setup();
    env.kube.add(workspace("broken"));
    const boom = new Error("the API server closed the connection");
    env.provisioner.answer = () => {
      throw boom;
    };
    await expect(env.pass("broken")).rejects.toBe(boom);
    expect(env.log).toEqual(["provisioner.reconcile", "patch workspaces/status"]);
    const after = env.kube.current("broken");
    expect(condition(after, "WorkspaceReady")).toMatchObject({
      status: "Unknown",
      reason: "ReconcileError",
      message: "the API server closed the connection",
    });
    // What the pass learnt before the failure is kept: the plan it made.
    expect(after.status?.placement?.instanceType).toBe(env.provisioner.requests[0]!.instanceType);
  });

  it("a Service of that name that is not the workspace's is reported and looked at again in 30 s", async () => {
    const env = setup();
    env.kube.add(workspace("taken", { instanceType: "Standard_NC12s_v3" }));
    env.kube.objects.set("services/default/taken", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "taken", namespace: "default", labels: { app: "someone-else" } },
    });
    env.provisioner.answer = () => ({ kind: "ready", nodes: ["node-a"], machines: ["m-0"] });
    const { result, events } = await env.pass("taken");
    expect(result).toEqual({ requeueAfterMs: 30_000 });
    const after = env.kube.current("taken");
    expect(condition(after, "WorkspaceReady")).toMatchObject({
      status: "False",
      reason: "WorkloadNameTaken",
    });
    expect(condition(after, "ResourceReady")).toMatchObject({ status: "True", reason: "NodesReady" });
    expect(events.map((e) => e.reason)).toEqual(["WorkloadNameTaken"]);
    expect(env.kube.objects.get("services/default/taken")?.metadata?.labels).toEqual({ app: "someone-else" });
  });
});

describe("the status", () => {
  it("is written once per pass, with only what changed, and not at all when nothing did", async () => {
    const env = setup();
    env.kube.add(workspace("steady", { instanceType: "Standard_NC12s_v3", count: 2 }));
    const first = await env.pass("steady");
    expect(first.patches).toHaveLength(1);
    expect(first.patches[0]).toMatchObject({ resource: "workspaces", type: "merge", subresource: "status" });
    expect(Object.keys(first.patches[0]!.body.status as object).sort()).toEqual([
      "conditions",
      "costPerHour",
      "instanceType",
      "machines",
      "nodeCount",
      "observedGeneration",
      "placement",
      "state",
      "targetNodeCount",
    ]);
    const status = env.kube.current("steady").status!;
    expect(status).toMatchObject({ instanceType: "Standard_NC12s_v3", nodeCount: 2, state: "Pending" });
    expect(status.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      "ResourceReady=Unknown/WaitingForNodes",
      "InferenceReady=Unknown/WaitingForNodes",
      "WorkspaceReady=Unknown/WaitingForNodes",
    ]);

    env.clock.step(10_000);
    const same = await env.pass("steady");
    expect(same.patches).toEqual([]);
    expect(same.events).toEqual([]);

    env.provisioner.answer = (req) => ({ kind: "waiting", ready: 1, wanted: 2, machines: machineNames(req) });
    const progress = await env.pass("steady");
    expect(progress.patches).toHaveLength(1);
    expect(Object.keys(progress.patches[0]!.body.status as object)).toEqual(["conditions"]);
    expect(condition(env.kube.current("steady"), "ResourceReady")?.message).toBe("1 of 2 node(s) ready.");
  });

  it("a pass with ready nodes applies the workload and reports the replicas it waits for", async () => {
    const env = setup();
    env.kube.add(workspace("serving", { instanceType: "Standard_NC12s_v3" }));
    env.provisioner.answer = () => ({ kind: "ready", nodes: ["node-b", "node-a"], machines: ["m-0", "m-1"] });
    const { result, patches, events } = await env.pass("serving");
    expect(result).toEqual({});
    expect(patches.filter((p) => p.subresource === "status")).toHaveLength(1);
    expect(patches.filter((p) => p.type === "apply").map((p) => `${p.resource}/${p.name}`)).toEqual([
      "services/serving",
      "deployments/serving",
    ]);
    expect(events).toEqual([
      {
        object: "default/serving",
        type: "Normal",
        reason: "WorkloadApplied",
        message: "Applied the inference workload on 2 node(s).",
      },
    ]);
    const after = env.kube.current("serving");
    expect(after.status?.workerNodes).toEqual(["node-a", "node-b"]);
    expect(after.status?.conditions?.map((c) => `${c.type}=${c.status}/${c.reason}`)).toEqual([
      "ResourceReady=True/NodesReady",
      "InferenceReady=Unknown/WaitingForReplicas",
      "WorkspaceReady=Unknown/WaitingForReplicas",
    ]);
    expect(after.status?.state).toBe("NotReady");
  });
});
