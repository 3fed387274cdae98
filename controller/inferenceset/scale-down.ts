/**
 * Which replicas go when an InferenceSet scales down: those whose removal frees the most cost. A
 * replica alone on its nodes frees their price; one sharing a node with another workload frees
 * nothing of that node (it stays for the other), so it goes after. Ties: a replica that is not
 * serving yet goes before one that is (KAITO removes not-ready ones first), then the newest
 * (highest index) goes first, so the names that remain stay low.
 */
export interface ReplicaCost {
  name: string;
  index: number;
  ready: boolean;
  /** The nodes the replica runs on (status.workerNodes). */
  nodes: readonly string[];
}

export interface NodeUse {
  /** Price per hour of each node, by name; a node absent here counts as free. */
  pricePerHour: ReadonlyMap<string, number>;
  /** The workloads (namespace/name of their Workspaces) on each node, from its pods. */
  users: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The price per hour that removing the replica would stop paying. */
export function freedCost(replica: ReplicaCost, namespace: string, use: NodeUse): number {
  const self = `${namespace}/${replica.name}`;
  let freed = 0;
  for (const node of new Set(replica.nodes)) {
    const others = [...(use.users.get(node) ?? [])].filter((u) => u !== self);
    if (others.length === 0) freed += use.pricePerHour.get(node) ?? 0;
  }
  return freed;
}

/** The `count` replicas to remove, in the order they should go. */
export function pickForRemoval(
  replicas: readonly ReplicaCost[],
  count: number,
  namespace: string,
  use: NodeUse,
): ReplicaCost[] {
  const costed = replicas.map((r) => ({ r, freed: freedCost(r, namespace, use) }));
  costed.sort((a, b) => b.freed - a.freed || Number(a.r.ready) - Number(b.r.ready) || b.r.index - a.r.index);
  return costed.slice(0, Math.max(0, count)).map((c) => c.r);
}
