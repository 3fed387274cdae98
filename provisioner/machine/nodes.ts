import { machineApiVersion, machineKind, type Machine, type Taint } from "../../crds/index.ts";
import type { KubeClient, KubeObject } from "../../kube/client.ts";
import { isConflict } from "../../kube/errors.ts";
import type { Informer } from "../../kube/informer.ts";
import { resources } from "../../kube/resources.ts";
import { hasTaint, type Node } from "../kube-types.ts";
import { requiredLabels } from "../requirements.ts";
import { providerIdKey, sameProviderID } from "../cloud/providerid.ts";
import { InformerIndex } from "./indexer.ts";

/** Marks a node the Machine controller has registered, as Karpenter does. */
export const registeredLabel = "karpenter.sh/registered";

/** Finds a Machine's node. The manager reads the informer cache; tests may read the API server. */
export interface NodeReader {
  /** Nodes whose spec.providerID is `providerID` (normally one, none before it registers). */
  byProviderID(providerID: string): Promise<Node[]>;
}

/** The index values of a node: its providerID in the form providerIDs compare in. */
export function providerIdIndexOf(node: Node): string[] {
  return node.spec?.providerID ? [providerIdKey(node.spec.providerID)] : [];
}

/** Reads the node informer's cache through a providerID index. */
export class InformerNodeReader implements NodeReader {
  private readonly index: InformerIndex<Node>;
  constructor(informer: Informer<Node>) {
    this.index = new InformerIndex(informer, providerIdIndexOf);
  }
  async byProviderID(providerID: string): Promise<Node[]> {
    return this.index.get(providerIdKey(providerID));
  }
}

/** Lists nodes from the API server on every call: exact, for tests that call reconcile() directly. */
export class ClientNodeReader implements NodeReader {
  private readonly client: KubeClient;
  constructor(client: KubeClient) {
    this.client = client;
  }
  async byProviderID(providerID: string): Promise<Node[]> {
    const nodes = await this.client.list<Node>(resources.nodes);
    return nodes.items.filter((n) => sameProviderID(n.spec?.providerID, providerID));
  }
}

/**
 * The node as the Machine wants it: the Machine's labels and pinned requirements, its permanent
 * taints, the registered mark, and the Machine as an owner (so deleting a Machine by other means
 * still takes its node with it). Startup taints are not re-applied: the instance boots with them
 * and a daemon removes them, which re-adding would undo. Returns undefined when nothing changes.
 */
export function syncedNode(node: Node, machine: Machine): Node | undefined {
  const next = structuredClone(node);
  const meta = (next.metadata ??= {});
  let changed = false;
  const labels = { ...requiredLabels(machine), [registeredLabel]: "true" };
  for (const [k, v] of Object.entries(labels)) {
    if (meta.labels?.[k] !== v) {
      meta.labels = { ...meta.labels, [k]: v };
      changed = true;
    }
  }
  const taints: Taint[] = [...(next.spec?.taints ?? [])];
  for (const t of machine.spec?.taints ?? []) {
    if (!hasTaint(taints, t)) {
      taints.push({ key: t.key, ...(t.value !== undefined ? { value: t.value } : {}), effect: t.effect });
      changed = true;
    }
  }
  next.spec = { ...next.spec, taints };
  const uid = machine.metadata?.uid;
  if (uid && !(meta.ownerReferences ?? []).some((r) => r.uid === uid)) {
    meta.ownerReferences = [
      ...(meta.ownerReferences ?? []),
      { apiVersion: machineApiVersion, kind: machineKind, name: machine.metadata!.name!, uid },
    ];
    changed = true;
  }
  return changed ? next : undefined;
}

/**
 * Read-modify-write with optimistic concurrency: `mutate` returns the new object, or undefined
 * when the current one needs no change. A conflict re-reads the object and tries again.
 */
export async function updateWithRetry<T extends KubeObject>(
  client: KubeClient,
  resource: (typeof resources)[keyof typeof resources],
  current: T,
  mutate: (o: T) => T | undefined,
  attempts = 5,
): Promise<T> {
  let object = current;
  for (let attempt = 1; ; attempt++) {
    const next = mutate(object);
    if (!next) return object;
    try {
      return await client.update<T>(resource, next);
    } catch (e) {
      if (!isConflict(e) || attempt >= attempts) throw e;
      const m = object.metadata!;
      object = await client.get<T>(resource, m.name!, m.namespace);
    }
  }
}

/**
 * The Machines a node event concerns: its owner, and whoever holds its providerID (the index holds
 * Machines' providerIDs as providerIdKey() gives them).
 */
export function machineKeysForNode(
  node: Node,
  machinesByProviderID: { keys(value: string): string[] },
): string[] {
  const keys = new Set<string>();
  for (const ref of node.metadata?.ownerReferences ?? []) {
    if (ref.kind === machineKind && ref.apiVersion.startsWith("karpenter.sh/")) keys.add(ref.name);
  }
  const providerID = node.spec?.providerID;
  if (providerID) for (const k of machinesByProviderID.keys(providerIdKey(providerID))) keys.add(k);
  return [...keys];
}
