import { systemClock, type Clock } from "../lib/clock.ts";
import { toGpuNode, type GpuNode } from "./gpu-node.ts";
import { toGpuPod, workspaceKey } from "./gpu-pod.ts";

/**
 * The cluster as the extender sees it. In node-cache mode kube-scheduler sends only node names,
 * so the nodes come from here; in both modes the GPUs already taken on a node come from here,
 * because neither request shape says which pods run where.
 */
export interface ClusterView {
  /** False until the first full lists are in; until then the extender stands aside. */
  synced(): boolean;
  /** What is known about one node, in one lookup: the hot path of filter and prioritize. */
  lookup(nodeName: string): NodeUsage | undefined;
  nodes(): Iterable<GpuNode>;
  /**
   * Counts a pod on a node before the API server confirms the binding, so the next pod is scored
   * against what kube-scheduler already assumes. The pod's own watch event replaces it.
   */
  assume(pod: Assumption): void;
  /** Drops an assumption whose binding failed. */
  forget(podKey: string, uid: string): void;
}

export interface NodeUsage {
  /** Undefined when pods are known on the node but the Node object is not (yet). */
  readonly node: GpuNode | undefined;
  /** GPUs held by non-terminated pods bound to the node, or being bound to it by us. */
  readonly gpusInUse: number;
  /** Replicas per workspace (`workspaceKey`) on the node, counted the same way. */
  readonly replicas: ReadonlyMap<string, number> | undefined;
}

export interface Assumption {
  /** namespace/name */
  key: string;
  uid: string;
  nodeName: string;
  gpus: number;
  /** `workspaceKey` of the pod's workspace, if it has one. */
  workspace?: string;
}

/** The events of a list+watch cache (kube/informer.ts's Informer has this shape). */
export interface EventSource<T> {
  on(handler: (e: { type: "added" | "updated" | "deleted"; object: T }) => void): unknown;
}

interface Holding {
  nodeName: string;
  gpus: number;
  workspace?: string;
}

export interface MemoryClusterViewOptions {
  clock?: Clock;
  /** How long an assumption lives without its watch event (default 60 s). */
  assumeTtlMs?: number;
  /** Start as synced (tests and benchmarks that load the view by hand). */
  synced?: boolean;
}

/**
 * A ClusterView kept in memory from node and pod events. Usage per node is maintained
 * incrementally, so a filter over 5,000 nodes does map lookups only.
 */
export class MemoryClusterView implements ClusterView {
  private readonly clock: Clock;
  private readonly assumeTtlMs: number;
  private isSynced: boolean;
  /** One entry per node name that has a Node object or GPU holdings. */
  private readonly slots = new Map<string, Slot>();
  private readonly bound = new Map<string, Holding & { uid: string }>();
  private readonly assumed = new Map<string, Holding & { uid: string; cancel: () => void }>();

  constructor(options: MemoryClusterViewOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.assumeTtlMs = options.assumeTtlMs ?? 60_000;
    this.isSynced = options.synced ?? false;
  }

  synced(): boolean {
    return this.isSynced;
  }

  markSynced(): void {
    this.isSynced = true;
  }

  lookup(nodeName: string): NodeUsage | undefined {
    return this.slots.get(nodeName);
  }

  *nodes(): Iterable<GpuNode> {
    for (const slot of this.slots.values()) if (slot.node) yield slot.node;
  }

  node(name: string): GpuNode | undefined {
    return this.slots.get(name)?.node;
  }

  gpusInUse(nodeName: string): number {
    return this.slots.get(nodeName)?.gpusInUse ?? 0;
  }

  workspaceReplicasOn(nodeName: string, workspace: string): number {
    return this.slots.get(nodeName)?.replicas?.get(workspace) ?? 0;
  }

  /** Adds or replaces a node (a V1Node, or anything shaped like one). */
  upsertNode(node: unknown): void {
    const gpuNode = toGpuNode(node);
    if (gpuNode) this.slot(gpuNode.name).node = gpuNode;
  }

  deleteNode(node: unknown): void {
    const gpuNode = toGpuNode(node);
    const slot = gpuNode && this.slots.get(gpuNode.name);
    if (!slot) return;
    slot.node = undefined;
    this.prune(gpuNode.name, slot);
  }

  /** Adds or replaces a pod; only pods holding GPUs on a node change anything. */
  upsertPod(pod: unknown): void {
    const p = toGpuPod(pod);
    if (!p) return;
    const holds = p.nodeName !== undefined && !p.terminated && p.gpus > 0;
    // A pod that is bound (or gone from the running) settles any assumption about it; a pod
    // still pending leaves ours in place, since its binding is on the way.
    if (p.nodeName !== undefined || p.terminated) this.dropAssumption(p.key);
    this.release(this.bound, p.key);
    if (holds) {
      const holding = { uid: p.uid, nodeName: p.nodeName!, gpus: p.gpus, ...wsOf(p.workspace) };
      this.bound.set(p.key, holding);
      this.hold(holding, +1);
    }
  }

  deletePod(pod: unknown): void {
    const p = toGpuPod(pod);
    if (!p) return;
    this.dropAssumption(p.key);
    this.release(this.bound, p.key);
  }

  assume(a: Assumption): void {
    if (this.bound.has(a.key) || a.gpus <= 0) return;
    this.dropAssumption(a.key);
    const cancel = this.clock.schedule(this.assumeTtlMs, () => {
      if (this.assumed.get(a.key)?.cancel === cancel) this.dropAssumption(a.key);
    });
    const holding = { uid: a.uid, nodeName: a.nodeName, gpus: a.gpus, cancel, ...wsOf(a.workspace) };
    this.assumed.set(a.key, holding);
    this.hold(holding, +1);
  }

  forget(podKey: string, uid: string): void {
    if (this.assumed.get(podKey)?.uid === uid) this.dropAssumption(podKey);
  }

  /** Number of pods counted only through assumptions (for tests and debugging). */
  assumedCount(): number {
    return this.assumed.size;
  }

  /** Wires the view to node and pod informers; call markSynced() once both have listed. */
  feedFrom(sources: { nodes?: EventSource<unknown>; pods: EventSource<unknown> }): void {
    sources.nodes?.on((e) => (e.type === "deleted" ? this.deleteNode(e.object) : this.upsertNode(e.object)));
    sources.pods.on((e) => (e.type === "deleted" ? this.deletePod(e.object) : this.upsertPod(e.object)));
  }

  private dropAssumption(key: string): void {
    const a = this.assumed.get(key);
    if (!a) return;
    a.cancel();
    this.release(this.assumed, key);
  }

  private release(map: Map<string, Holding>, key: string): void {
    const h = map.get(key);
    if (!h) return;
    map.delete(key);
    this.hold(h, -1);
  }

  private hold(h: Holding, sign: 1 | -1): void {
    const slot = this.slot(h.nodeName);
    slot.gpusInUse = Math.max(0, slot.gpusInUse + sign * h.gpus);
    if (h.workspace !== undefined) {
      const replicas = (slot.replicas ??= new Map());
      const count = (replicas.get(h.workspace) ?? 0) + sign;
      if (count > 0) replicas.set(h.workspace, count);
      else replicas.delete(h.workspace);
      if (replicas.size === 0) slot.replicas = undefined;
    }
    this.prune(h.nodeName, slot);
  }

  private slot(name: string): Slot {
    let slot = this.slots.get(name);
    if (!slot) this.slots.set(name, (slot = { node: undefined, gpusInUse: 0, replicas: undefined }));
    return slot;
  }

  private prune(name: string, slot: Slot): void {
    if (!slot.node && slot.gpusInUse === 0 && !slot.replicas) this.slots.delete(name);
  }
}

interface Slot {
  node: GpuNode | undefined;
  gpusInUse: number;
  replicas: Map<string, number> | undefined;
}

function wsOf(workspace: { namespace?: string; name: string } | string | undefined): { workspace?: string } {
  if (workspace === undefined) return {};
  return { workspace: typeof workspace === "string" ? workspace : workspaceKey(workspace) };
}
