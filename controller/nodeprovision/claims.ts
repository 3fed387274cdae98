import type { Workspace } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { ignoreNotFound, isAlreadyExists, isNotFound } from "../../kube/errors.ts";
import type { EventRecorder } from "../../kube/events.ts";
import { objectKey, type Informer } from "../../kube/informer.ts";
import type { Resource } from "../../kube/resources.ts";
import { isOwnedBy, ownerLabels, workspaceKeyOf } from "./labels.ts";
import { nodeObjectName } from "./naming.ts";
import { releaseOf, type SharedNodeUsers } from "./sharing.ts";
import type { NodeLaunch, NodeRequest, ResourceState } from "./types.ts";

/** How many names a workspace's node `i` may try when the first ones are taken by others. */
export const maxNameAttempts = 4;

/** A launch the provisioner reported as failed for capacity: replan on another size. */
export interface LaunchFailure {
  reason: string;
  message: string;
}

/**
 * What differs between a Machine and a NodeClaim: the API resource, the object for a node, and how
 * its provisioner reports progress and failure.
 */
export interface ClaimKind<T extends KubeObject> {
  /** "Machine" or "NodeClaim": events say `<kind>Created`, `<kind>Deleted`, `<kind>NameTaken`. */
  kind: string;
  resource: Resource;
  desired(ws: Workspace, request: NodeRequest, name: string): T;
  instanceType(obj: T): string | undefined;
  /** The node it became once its provisioner calls it Ready; undefined before. */
  readyNode(obj: T): string | undefined;
  /** A capacity failure the object itself reports (a condition), if any. */
  failure(obj: T): LaunchFailure | undefined;
  /**
   * A capacity failure of a launch whose object is gone: Karpenter deletes a NodeClaim whose launch
   * hit insufficient capacity and says so only in an event. Consulted before (re)creating a name.
   */
  vanishedFailure?(name: string): Promise<LaunchFailure | undefined>;
  launch(obj: T): Pick<NodeLaunch, "launched" | "launchedAt">;
}

export interface ClaimSetOptions<T extends KubeObject> {
  kind: ClaimKind<T>;
  client: KubeClient;
  recorder: EventRecorder;
  /** The objects of every workspace (an informer on the owner label). */
  cache: Informer<T & KubeObject>;
  /** The workspaces sharing objects they do not own; absent, nothing is ever handed over. */
  users?: SharedNodeUsers;
}

/**
 * The workspace's Machines or NodeClaims as one level-triggered set: node `i` of the plan is the
 * first of its candidate names (naming.ts) that this workspace owns, or else the first not taken by
 * another workspace's object. A name found taken is never adopted: it is skipped, with a warning.
 */
export class ClaimSet<T extends KubeObject> {
  private readonly o: ClaimSetOptions<T>;
  /** Names found to belong to another workspace; learnt again after a restart from AlreadyExists. */
  private readonly taken = new Set<string>();

  constructor(o: ClaimSetOptions<T>) {
    this.o = o;
  }

  mine(ws: Workspace): T[] {
    return this.o.cache.list().filter((x) => isOwnedBy(x, ws));
  }

  /** Candidate `attempt` of node `index` is chosen: the owned one first, else the first free one. */
  private choose(ws: Workspace, sku: string, index: number, mine: ReadonlyMap<string, T>): string {
    const candidates = Array.from({ length: maxNameAttempts }, (_, a) => nodeObjectName(ws, sku, index, a));
    return (
      candidates.find((n) => mine.has(n)) ?? candidates.find((n) => !this.taken.has(n)) ?? candidates[0]!
    );
  }

  async reconcile(ws: Workspace, request: NodeRequest): Promise<ResourceState> {
    const { kind, recorder } = this.o;
    const mine = new Map(this.mine(ws).map((x) => [x.metadata!.name!, x]));
    const wanted = Array.from({ length: request.newNodes }, (_, i) =>
      this.choose(ws, request.instanceType, i, mine),
    );
    // Shared objects it owns (handed over to it, or launched for it in a batch) stay.
    const shared = [...new Set(request.shared ?? [])].filter((n) => !wanted.includes(n));
    const wantedSet = new Set([...wanted, ...shared]);

    for (const [name, obj] of mine) {
      if (wantedSet.has(name) || obj.metadata?.deletionTimestamp) continue;
      const released = await this.release(ws, obj, "it is no longer in this workspace's plan");
      if (released === "deleted")
        recorder.event(
          ws,
          "Normal",
          `${kind.kind}Deleted`,
          `Deleted ${kind.kind} ${name} (${kind.instanceType(obj) ?? "?"}): no longer in the plan.`,
        );
    }

    const names = [...wanted].sort();
    for (const name of [...wanted, ...shared]) {
      const obj = mine.get(name);
      const failed = obj ? kind.failure(obj) : undefined;
      if (failed) {
        const instanceType = kind.instanceType(obj!) ?? request.instanceType;
        return { kind: "launchFailed", instanceType, ...failed, machines: names };
      }
    }

    for (let i = 0; i < wanted.length; i++) {
      let name = wanted[i]!;
      if (mine.has(name)) continue;
      const vanished = await kind.vanishedFailure?.(name);
      if (vanished)
        return { kind: "launchFailed", instanceType: request.instanceType, ...vanished, machines: names };
      name = await this.create(ws, request, i, name);
      wanted[i] = name;
    }

    // Its own objects from its plan, then the shared ones, whoever owns them now, by name.
    const readyNode = (obj: T | undefined) =>
      obj && !obj.metadata?.deletionTimestamp ? kind.readyNode(obj) : undefined;
    const all = [...wanted, ...shared];
    const nodes = [
      ...wanted.map((n) => readyNode(mine.get(n))),
      ...shared.map((n) => readyNode(mine.get(n) ?? this.o.cache.get(n))),
    ].filter((n): n is string => n !== undefined);
    const machines = [...wanted, ...shared.filter((n) => mine.has(n))].sort();
    if (nodes.length === all.length) {
      return { kind: "ready", nodes: [...request.existingNodes, ...nodes], machines };
    }
    return { kind: "waiting", ready: nodes.length, wanted: all.length, machines };
  }

  /**
   * Creates node `index` under `name`, or under the next candidate when another workspace's object
   * has the name. Returns the name it ended up with.
   */
  private async create(ws: Workspace, request: NodeRequest, index: number, name: string): Promise<string> {
    const { kind, client, recorder } = this.o;
    for (let attempt = 0; attempt < maxNameAttempts; attempt++) {
      const candidate = attempt === 0 ? name : nodeObjectName(ws, request.instanceType, index, attempt);
      if (this.taken.has(candidate)) continue;
      try {
        await client.create(kind.resource, kind.desired(ws, request, candidate));
        recorder.event(
          ws,
          "Normal",
          `${kind.kind}Created`,
          `Created ${kind.kind} ${candidate} (${request.instanceType}).`,
        );
        return candidate;
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
      // Ours (a create the cache has not shown yet), or another workspace's: never adopt that one.
      const existing = await client.get<T>(kind.resource, candidate).catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
      if (!existing || isOwnedBy(existing, ws)) return candidate;
      this.taken.add(candidate);
      const owner = workspaceKeyOf(existing)[0] ?? "no workspace";
      recorder.event(
        ws,
        "Warning",
        `${kind.kind}NameTaken`,
        `${kind.kind} ${candidate} exists and belongs to ${owner}; using the next name for node ${index}.`,
      );
    }
    throw new Error(
      `every candidate name for ${kind.kind} ${index} of this workspace is taken by another workspace's objects`,
    );
  }

  /** Deletes the workspace's failed launches (the named-size back-off recreates them). */
  async clearFailed(ws: Workspace): Promise<void> {
    for (const obj of this.mine(ws)) {
      if (obj.metadata?.deletionTimestamp || !this.o.kind.failure(obj)) continue;
      await this.o.client.delete(this.o.kind.resource, obj.metadata!.name!).catch(ignoreNotFound);
    }
  }

  /**
   * Lets every object of the workspace go: one another live workspace still shares is handed
   * over to it, the rest are deleted. True once the cache shows none left with its labels.
   */
  async delete(ws: Workspace): Promise<boolean> {
    const mine = this.mine(ws);
    for (const obj of mine) {
      if (!obj.metadata?.deletionTimestamp) await this.release(ws, obj, "this workspace is being deleted");
    }
    return mine.length === 0;
  }

  /**
   * Lets go of an object `ws` owns (sharing.ts): relabelled to the workspace that shares it and
   * comes first by namespace/name, or deleted when no live workspace shares it. Idempotent: a
   * pass that crashed half-way is finished by the next, which reads the same labels and guests.
   * The relabel carries the cached resourceVersion, so a stale cache fails with a conflict
   * (retried) rather than undo a newer change.
   */
  private async release(ws: Workspace, obj: T, why: string): Promise<"deleted" | "handedOver"> {
    const { kind, client, recorder } = this.o;
    const name = obj.metadata!.name!;
    const release = releaseOf(ws, this.o.users?.guests(name) ?? []);
    if (release.kind === "delete") {
      await client.delete(kind.resource, name).catch(ignoreNotFound);
      return "deleted";
    }
    const to = release.to;
    const patch = { metadata: { resourceVersion: obj.metadata?.resourceVersion, labels: ownerLabels(to) } };
    await client.patch(kind.resource, name, undefined, patch, "merge");
    const from = workspaceKeyOf(obj)[0] ?? "?";
    const target = objectKey(to);
    const node = kind.readyNode(obj);
    const what = `${kind.kind} ${name}${node ? ` (node ${node})` : ""}`;
    recorder.event(
      ws,
      "Normal",
      `${kind.kind}HandedOver`,
      `${what} goes to ${target}, which shares it: ${why}.`,
    );
    recorder.event(
      to,
      "Normal",
      `${kind.kind}Adopted`,
      `${what} is this workspace's now: ${from}, which launched it or took it over, let it go.`,
    );
    return "handedOver";
  }

  launches(): NodeLaunch[] {
    return this.o.cache.list().map((obj) => launchOf(this.o.kind, obj));
  }
}

/** An object as quota accounting and sharing read it. */
export function launchOf<T extends KubeObject>(kind: ClaimKind<T>, obj: T): NodeLaunch {
  const readyNode = obj.metadata?.deletionTimestamp ? undefined : kind.readyNode(obj);
  return {
    name: obj.metadata!.name!,
    workspace: workspaceKeyOf(obj)[0],
    ...(readyNode ? { readyNode } : {}),
    instanceType: kind.instanceType(obj) ?? "",
    deleting: !!obj.metadata?.deletionTimestamp,
    ...kind.launch(obj),
  };
}

/** The workspaces an object's events concern: its owner, and those that share its node. */
export function objectUsers(obj: KubeObject, users: SharedNodeUsers | undefined): string[] {
  const owner = workspaceKeyOf(obj);
  const guests = users?.keys(obj.metadata?.name ?? "") ?? [];
  return [...new Set([...owner, ...guests])];
}
