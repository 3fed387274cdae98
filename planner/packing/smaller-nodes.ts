import { costOf, nodeNamer, type DecodedPlan } from "./decode.ts";
import type { Demand, NewNode, Placement, Problem, SkuSpec } from "./types.ts";

/**
 * Among plans of equal price, prefers more and smaller nodes. Azure prices most GPU families
 * linearly (two NC24ads_A100_v4 cost one NC48ads_A100_v4), so the solver is indifferent
 * between them; users are not: replicas on separate nodes fail, drain and free independently,
 * and an emptied small node is removed or reused where a half-empty large one lingers.
 *
 * A new single-node host is split into smaller sizes of the same family and GPU memory when its
 * replicas fit on them at no more total price and no more vCPUs (so no quota is exceeded) and
 * every demand on it may use them. A replica needs the same GPUs on any size with the same GPU
 * memory, and labels stay as they were, so the plan stays valid and its cost never rises.
 */
export function preferSmallerNodes(plan: DecodedPlan, problem: Problem): DecodedPlan {
  const skus = new Map(problem.catalog.map((s) => [s.name, s]));
  const demands = new Map(problem.demands.map((d) => [d.name, d]));
  const onNode = new Map<string, Placement[]>();
  const nodesOfReplica = new Map<string, number>();
  for (const p of plan.placements) {
    onNode.set(p.node, [...(onNode.get(p.node) ?? []), p]);
    const r = `${p.demand}\u0000${p.replica}`;
    nodesOfReplica.set(r, (nodesOfReplica.get(r) ?? 0) + 1);
  }
  const spansNodes = (p: Placement) => nodesOfReplica.get(`${p.demand}\u0000${p.replica}`)! > 1;

  const namer = nodeNamer(
    new Set([...problem.nodes.map((n) => n.name), ...plan.newNodes.map((n) => n.name)]),
  );
  const renamed = new Map<Placement, string>();
  const newNodes: NewNode[] = [];
  for (const node of plan.newNodes) {
    const sku = skus.get(node.sku)!;
    const hosted = onNode.get(node.name) ?? [];
    const split =
      hosted.length > 1 && !hosted.some(spansNodes)
        ? smallerHosts(sku, hosted, siblings(sku, hosted, problem.catalog, demands))
        : undefined;
    if (!split) {
      newNodes.push(node);
      continue;
    }
    for (const host of split) {
      const name = namer(host.sku);
      newNodes.push({ name, sku: host.sku.name, labels: node.labels });
      for (const p of host.placements) renamed.set(p, name);
    }
  }
  if (renamed.size === 0) return plan;
  const placements = plan.placements.map((p) => (renamed.has(p) ? { ...p, node: renamed.get(p)! } : p));
  return { ...plan, newNodes, placements, costPerHour: costOf(newNodes, problem.catalog) };
}

/** Smaller sizes of `sku`'s family and GPU memory that every demand on the node may use, smallest first. */
function siblings(
  sku: SkuSpec,
  hosted: readonly Placement[],
  catalog: readonly SkuSpec[],
  demands: ReadonlyMap<string, Demand>,
): SkuSpec[] {
  const allowed = (s: SkuSpec) =>
    hosted.every((p) => {
      const listed = demands.get(p.demand)?.skus;
      return !listed || listed.includes(s.name);
    });
  return catalog
    .filter(
      (s) =>
        s.family === sku.family && s.gpuMemoryGiB === sku.gpuMemoryGiB && s.gpus < sku.gpus && allowed(s),
    )
    .sort((a, b) => a.gpus - b.gpus || a.pricePerHour - b.pricePerHour || (a.name < b.name ? -1 : 1));
}

interface Host {
  sku: SkuSpec;
  free: number;
  placements: Placement[];
}

/**
 * First-fit decreasing onto the smallest sibling that holds each opening replica, then each
 * host shrunk to the smallest sibling that holds its load. Undefined unless that gives at least
 * two hosts at no more price and vCPUs than `sku`.
 */
function smallerHosts(
  sku: SkuSpec,
  hosted: readonly Placement[],
  sizes: readonly SkuSpec[],
): Host[] | undefined {
  if (sizes.length === 0) return undefined;
  const hosts: Host[] = [];
  const largestFirst = [...hosted].sort((a, b) => b.gpus - a.gpus);
  for (const p of largestFirst) {
    let host = hosts.find((h) => h.free >= p.gpus);
    if (!host) {
      const size = sizes.find((s) => s.gpus >= p.gpus);
      if (!size) return undefined;
      host = { sku: size, free: size.gpus, placements: [] };
      hosts.push(host);
    }
    host.free -= p.gpus;
    host.placements.push(p);
  }
  for (const host of hosts) {
    const load = host.sku.gpus - host.free;
    host.sku = sizes.find((s) => s.gpus >= load)!;
  }
  const price = hosts.reduce((sum, h) => sum + h.sku.pricePerHour, 0);
  const vcpus = hosts.reduce((sum, h) => sum + h.sku.vcpus, 0);
  const noDearer = price <= sku.pricePerHour + 1e-9 && vcpus <= sku.vcpus;
  return hosts.length > 1 && noDearer ? hosts : undefined;
}
