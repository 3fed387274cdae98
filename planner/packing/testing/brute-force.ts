import { labelKey, labelsInclude, shapeOn, type Shape } from "../rules.ts";
import type { Demand, Problem, SkuSpec } from "../types.ts";

/** The true optimum of a tiny problem: most replicas placed, then least cost. */
export interface BruteOptimum {
  placed: number;
  cost: number;
}

interface Replica {
  demand: Demand;
  key: string;
  shapes: Shape[];
}

interface Group {
  key: string;
  replicas: Replica[];
}

/**
 * Enumerates every assignment of replicas to existing nodes, to new nodes (as set partitions of
 * the replicas, then every SKU for each part), or to nowhere, straight from DESIGN.md's rules.
 * Exponential: for tests on a handful of replicas only. Shares nothing with the MILP but the
 * rule helpers that the rules tests cover on their own.
 */
export function bruteForce(problem: Problem): BruteOptimum {
  const replicas: Replica[] = problem.demands.flatMap((demand) =>
    Array.from({ length: demand.replicas }, () => ({
      demand,
      key: labelKey(demand.labels),
      shapes: problem.catalog.map((sku) => shapeOn(demand, sku)),
    })),
  );
  const skuOf = new Map(problem.catalog.map((s, i) => [s.name, i]));
  const free = problem.nodes.map((n) => n.freeGpus);
  const groups: Group[] = [];
  let best: BruteOptimum = { placed: -1, cost: Infinity };

  const visit = (i: number, placed: number) => {
    if (placed + (replicas.length - i) < best.placed) return;
    if (i === replicas.length) {
      const cost = cheapestSkus(problem.catalog, problem.quota, groups);
      if (cost === undefined) return;
      if (placed > best.placed || (placed === best.placed && cost < best.cost - 1e-9))
        best = { placed, cost };
      return;
    }
    const r = replicas[i]!;
    problem.nodes.forEach((node, n) => {
      if (!labelsInclude(node.labels, r.demand.labels)) return;
      const shape = r.shapes[skuOf.get(node.sku)!]!;
      if (shape.kind !== "single" || shape.gpus > free[n]!) return;
      free[n]! -= shape.gpus;
      visit(i + 1, placed + 1);
      free[n]! += shape.gpus;
    });
    if (r.shapes.some((s) => s.kind !== "ineligible")) {
      for (const g of groups) {
        if (g.key !== r.key) continue;
        g.replicas.push(r);
        visit(i + 1, placed + 1);
        g.replicas.pop();
      }
      groups.push({ key: r.key, replicas: [r] });
      visit(i + 1, placed + 1);
      groups.pop();
    }
    visit(i + 1, placed);
  };
  visit(0, 0);
  return { placed: best.placed, cost: best.placed > 0 ? best.cost : 0 };
}

/** Least cost of giving every group of replicas its own new node(s) of one SKU, within quota. */
function cheapestSkus(
  catalog: readonly SkuSpec[],
  quota: Problem["quota"],
  groups: Group[],
): number | undefined {
  const options = groups.map((g) => {
    const out: { family: string; vcpus: number; cost: number }[] = [];
    catalog.forEach((sku, s) => {
      const shapes = g.replicas.map((r) => r.shapes[s]!);
      if (shapes.length === 1 && shapes[0]!.kind === "multi") {
        const nodes = shapes[0]!.nodes;
        out.push({ family: sku.family, vcpus: nodes * sku.vcpus, cost: nodes * sku.pricePerHour });
        return;
      }
      if (shapes.some((x) => x.kind !== "single")) return;
      const gpus = shapes.reduce((sum, x) => sum + (x as { gpus: number }).gpus, 0);
      if (gpus <= sku.gpus) out.push({ family: sku.family, vcpus: sku.vcpus, cost: sku.pricePerHour });
    });
    return out;
  });
  if (options.some((o) => o.length === 0)) return undefined;
  const left = new Map(Object.entries(quota));
  let best = Infinity;
  const pick = (g: number, cost: number) => {
    if (cost >= best) return;
    if (g === options.length) {
      best = cost;
      return;
    }
    for (const o of options[g]!) {
      const q = left.get(o.family);
      if (q !== undefined && q < o.vcpus) continue;
      if (q !== undefined) left.set(o.family, q - o.vcpus);
      pick(g + 1, cost + o.cost);
      if (q !== undefined) left.set(o.family, q);
    }
  };
  pick(0, 0);
  return Number.isFinite(best) ? best : undefined;
}
