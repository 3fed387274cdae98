/**
 * spec.nodeCountLimit in numbers: how many replicas the set may run without its nodes passing
 * the limit. KAITO derives the same bound for KEDA's maxReplicas (nodeCountLimit divided by one
 * Workspace's targetNodeCount, keda-kaito-scaler); here the set itself holds back replicas that
 * would pass it, and says so on its InferenceSetReady condition.
 */
export interface ReplicaNodes {
  /** Nodes the replica runs on, once known (status.workerNodes). */
  nodes: readonly string[];
  /** Nodes its placement asks for (status.targetNodeCount), known before they are ready. */
  target?: number;
}

/** Distinct nodes the replicas use or are about to: shared nodes count once. */
export function nodesInUse(replicas: readonly ReplicaNodes[]): number {
  const named = new Set<string>();
  let pending = 0;
  for (const r of replicas) {
    if (r.nodes.length > 0) for (const n of r.nodes) named.add(n);
    else pending += r.target ?? 1;
  }
  return named.size + pending;
}

/**
 * Nodes one more replica is expected to need: what the existing ones took each (they run the same
 * template), or 1 before any is placed. Conservative: a new replica that fits beside its siblings
 * on their nodes needs none, which only the planner can tell.
 */
export function nodesPerReplica(replicas: readonly ReplicaNodes[]): number {
  const known = replicas.map((r) => (r.nodes.length > 0 ? r.nodes.length : r.target)).filter((n) => !!n);
  return known.length > 0 ? Math.max(...(known as number[])) : 1;
}

/**
 * How many of `wanted` new replicas may be created under `limit` (0 or undefined: no limit),
 * given the replicas that exist.
 */
export function creatableWithin(
  limit: number | undefined,
  existing: readonly ReplicaNodes[],
  wanted: number,
): number {
  if (!limit) return wanted;
  const free = limit - nodesInUse(existing);
  const each = nodesPerReplica(existing);
  return Math.max(0, Math.min(wanted, Math.floor(free / each)));
}
