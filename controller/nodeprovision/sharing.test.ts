// Handing a shared node over: the decision on plain objects, and the ClaimSet that acts on it
// against a store that keeps resourceVersions as the API server does.
import { describe, expect, it } from "vitest";
import type { Machine, Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { KubeApiError } from "../../kube/errors.ts";
import type { EventRecorder } from "../../kube/events.ts";
import type { Informer } from "../../kube/informer.ts";
import { ClaimSet } from "./claims.ts";
import { isOwnedBy, ownerLabels } from "./labels.ts";
import { desiredMachine, machineClaimKind } from "./machines.ts";
import { nodeObjectName } from "./naming.ts";
import { releaseOf, sharedNodeNames, type SharedNodeUsers } from "./sharing.ts";
import type { NodeRequest } from "./types.ts";

function workspace(name: string, namespace = "default", shares: string[] = [], deleting = false): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: {
      name,
      namespace,
      uid: `${namespace}-${name}-uid`,
      ...(deleting ? { deletionTimestamp: "2026-12-06T00:00:00Z" } : {}),
    },
    resource: { labelSelector: { matchLabels: { team: "nlp" } } },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
    status: {
      placement: {
        instanceType: "Standard_NC24ads_A100_v4",
        sharedNodes: shares.map((name) => ({ name, launchedBy: "default/host" })),
      },
    },
  };
}

const names = (ws: Workspace[]) => ws.map((w) => `${w.metadata!.namespace}/${w.metadata!.name}`);

describe("which workspace a released node object goes to", () => {
  const host = workspace("host");

  it("is deleted when no other live workspace shares it", () => {
    expect(releaseOf(host, [])).toEqual({ kind: "delete" });
    // The owner itself (it may list an object handed over to it) and workspaces being deleted
    // are no users that keep it.
    expect(releaseOf(host, [host, workspace("leaving", "default", ["m"], true)])).toEqual({ kind: "delete" });
  });

  it("goes to the first live guest by namespace/name, whatever order the cache lists them in", () => {
    const guests = [workspace("b", "team-b"), workspace("z", "team-a"), workspace("a", "team-b")];
    const chosen = [guests, [...guests].reverse(), [guests[1]!, guests[2]!, guests[0]!]].map((order) =>
      releaseOf(host, order),
    );
    for (const release of chosen) {
      expect(release.kind).toBe("handOver");
      expect(release.kind === "handOver" && names([release.to])).toEqual(["team-a/z"]);
    }
    // A guest being deleted is passed over for the next.
    const leaving = workspace("z", "team-a", [], true);
    const next = releaseOf(host, [leaving, guests[0]!, guests[2]!]);
    expect(next.kind === "handOver" && names([next.to])).toEqual(["team-b/a"]);
  });

  it("reads the objects a workspace shares from its stored placement", () => {
    expect(sharedNodeNames(workspace("g", "default", ["m1", "m2", "m1"]))).toEqual(["m1", "m2"]);
    expect(sharedNodeNames({ ...workspace("g"), status: {} })).toEqual([]);
  });
});

type Stored = Machine & KubeObject;

/** Machines in a map with resourceVersions: a merge patch naming a stale one is a Conflict. */
function store() {
  const objects = new Map<string, Stored>();
  let version = 1;
  const fail = (statusCode: number, reason: "NotFound" | "Conflict" | "AlreadyExists") =>
    new KubeApiError({ statusCode, reason, message: reason, method: "", path: "" });
  const calls: string[] = [];
  /** The next write fails as a dropped connection would (the manager dying mid-pass). */
  const crash = { next: false };
  const crashed = () => {
    if (!crash.next) return false;
    crash.next = false;
    return true;
  };
  const client = {
    create: async (_r: unknown, o: Stored) => {
      const name = o.metadata!.name!;
      if (objects.has(name)) throw fail(409, "AlreadyExists");
      const stored = {
        ...structuredClone(o),
        metadata: { ...o.metadata, resourceVersion: String(version++) },
      };
      objects.set(name, stored);
      calls.push(`create ${name}`);
      return stored;
    },
    patch: async (
      _r: unknown,
      name: string,
      _ns: unknown,
      p: { metadata: { resourceVersion?: string; labels: Record<string, string> } },
    ) => {
      if (crashed()) throw new Error("connection reset");
      const o = objects.get(name);
      if (!o) throw fail(404, "NotFound");
      if (p.metadata.resourceVersion && p.metadata.resourceVersion !== o.metadata!.resourceVersion)
        throw fail(409, "Conflict");
      o.metadata!.labels = { ...o.metadata!.labels, ...p.metadata.labels };
      o.metadata!.resourceVersion = String(version++);
      calls.push(
        `relabel ${name} ${o.metadata!.labels!["kaito.sh/workspacenamespace"]}/${o.metadata!.labels!["kaito.sh/workspace"]}`,
      );
      return o;
    },
    delete: async (_r: unknown, name: string) => {
      if (!objects.delete(name)) throw fail(404, "NotFound");
      calls.push(`delete ${name}`);
      return {};
    },
  } as unknown as KubeClient;
  /** What the informer would list: a copy taken when `sync` is called, so it can lag. */
  let cached: Stored[] = [];
  const sync = () => (cached = [...objects.values()].map((o) => structuredClone(o)));
  const cache = {
    list: () => cached,
    get: (name: string) => cached.find((o) => o.metadata!.name === name),
  } as unknown as Informer<Stored>;
  return { objects, client, cache, calls, sync, crash };
}

function claimSet(guests: Workspace[]) {
  const s = store();
  const events: string[] = [];
  const recorder: EventRecorder = {
    event: (o, _t, reason) => events.push(`${o.metadata!.name}: ${reason}`),
  };
  const users: SharedNodeUsers = {
    keys: (name) => names(guests.filter((g) => sharedNodeNames(g).includes(name))),
    guests: (name) => guests.filter((g) => sharedNodeNames(g).includes(name)),
  };
  const set = new ClaimSet({ kind: machineClaimKind, client: s.client, recorder, cache: s.cache, users });
  return { ...s, set, events };
}

const size = "Standard_NC24ads_A100_v4";
const request = (newNodes: number, shared: string[] = []): NodeRequest => ({
  instanceType: size,
  newNodes,
  existingNodes: [],
  gpusPerNode: 1,
  osDiskGiB: 128,
  shared,
});
/** Marks a stored Machine Ready on `node`. */
function ready(m: Stored, node: string) {
  m.status = { nodeName: node, conditions: [{ type: "Ready", status: "True", lastTransitionTime: "" }] };
}

describe("a ClaimSet letting a shared node go", () => {
  const host = workspace("host");
  const machine = nodeObjectName(host, size, 0);

  it("hands the host's node to its guest on deletion, and deletes what no one shares", async () => {
    const guest = workspace("guest", "default", [machine]);
    const { set, objects, calls, sync, events } = claimSet([guest]);
    await set.reconcile(host, request(2));
    const lonely = nodeObjectName(host, size, 1);
    expect([...objects.keys()].sort()).toEqual([machine, lonely].sort());
    sync();

    expect(await set.delete(host)).toBe(false);
    expect(calls.slice(2)).toEqual([`relabel ${machine} default/guest`, `delete ${lonely}`]);
    expect(events).toContain("host: MachineHandedOver");
    expect(events).toContain("guest: MachineAdopted");
    expect(isOwnedBy(objects.get(machine)!, guest)).toBe(true);

    // Level-triggered: the host's next pass sees nothing of its own and is done; nothing more is
    // written, and the guest's node is still there.
    sync();
    expect(await set.delete(host)).toBe(true);
    expect(calls).toHaveLength(4);
    expect(objects.has(machine)).toBe(true);
  });

  it("finishes a handover a crash interrupted, and a stale cache conflicts rather than undoing one", async () => {
    const first = workspace("first", "default", [machine]);
    const second = workspace("second", "default", [machine]);
    const guests = [second, first];
    const { set, objects, calls, sync, crash } = claimSet(guests);
    await set.reconcile(host, request(1));
    sync();
    // The pass dies at the write: nothing changed, and the next pass decides the same and does it.
    crash.next = true;
    await expect(set.delete(host)).rejects.toThrow("connection reset");
    expect(isOwnedBy(objects.get(machine)!, host)).toBe(true);
    expect(await set.delete(host)).toBe(false);
    expect(calls.at(-1)).toBe(`relabel ${machine} default/first`);

    // The cache still shows the host as owner, and the object has moved on since: the guest that
    // adopted it was deleted and handed it to the next. The host's stale pass conflicts.
    objects.get(machine)!.metadata!.labels = {
      ...objects.get(machine)!.metadata!.labels,
      ...ownerLabels(second),
    };
    objects.get(machine)!.metadata!.resourceVersion = "999";
    await expect(set.delete(host)).rejects.toMatchObject({ reason: "Conflict" });
    expect(isOwnedBy(objects.get(machine)!, second)).toBe(true);
  });

  it("keeps an adopted object the adopter's plan shares, waits for it, and lets it go once no plan has it", async () => {
    const guest = workspace("guest", "default", [machine]);
    const { set, objects, calls, sync } = claimSet([guest]);
    await set.reconcile(host, request(1));
    ready(objects.get(machine)!, "node-0");
    sync();
    await set.delete(host);
    sync();
    const before = calls.length;

    // The guest owns it now and its plan lists it as shared: never deleted as "not in the plan".
    const state = await set.reconcile(guest, request(0, [machine]));
    expect(state).toEqual({ kind: "ready", nodes: ["node-0"], machines: [machine] });
    expect(calls).toHaveLength(before);

    // A plan without it lets it go; with no one else sharing it, it is deleted.
    const alone = claimSet([]);
    alone.objects.set(machine, structuredClone(objects.get(machine)!));
    alone.sync();
    await alone.set.reconcile(guest, request(0));
    expect(alone.calls).toEqual([`delete ${machine}`]);
  });

  it("waits for a shared node another workspace owns and has not launched yet", async () => {
    const { set, objects, sync } = claimSet([]);
    const guest = workspace("guest", "default", [machine]);
    expect(await set.reconcile(guest, request(0, [machine]))).toEqual({
      kind: "waiting",
      ready: 0,
      wanted: 1,
      machines: [],
    });
    objects.set(machine, { ...desiredMachine(host, request(1), machine) } as Stored);
    ready(objects.get(machine)!, "node-0");
    sync();
    expect(await set.reconcile(guest, request(0, [machine]))).toMatchObject({
      kind: "ready",
      nodes: ["node-0"],
    });
    // The guest never writes another workspace's object.
    expect(isOwnedBy(objects.get(machine)!, host)).toBe(true);
  });
});
