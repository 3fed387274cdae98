import { prng } from "../../bench/generate.ts";
import type { Demand, ExistingNode, Labels, Problem, SkuSpec } from "../types.ts";

export interface TinyOptions {
  existing?: boolean;
  quotas?: boolean;
  /** Most replicas in all (default 6): the brute force is exponential in it. */
  maxReplicas?: number;
}

/**
 * A tiny random problem that still exercises every rule: GPU counts that are and are not powers
 * of two, several memory sizes, two families, label sets, `skus` filters, minimum per-GPU
 * memory, multi-node replicas, existing nodes with odd free counts, and tight quotas.
 */
export function tinyProblem(seed: number, options: TinyOptions = {}): Problem {
  const rand = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const labelSets: Labels[] = [{}, { team: "a" }, { team: "b" }];

  const catalog: SkuSpec[] = [];
  for (let i = 0; i < int(2, 3); i++) {
    const gpus = pick([1, 2, 4, 6, 8]);
    catalog.push({
      name: `S${i}`,
      gpus,
      gpuMemoryGiB: pick([16, 24, 40, 80]),
      vcpus: gpus * pick([4, 12]),
      family: pick(["f1", "f2"]),
      pricePerHour: Math.round(gpus * (0.5 + rand() * 3) * 1000) / 1000,
    });
  }
  const nodes: ExistingNode[] = [];
  if (options.existing ?? rand() < 0.5) {
    for (let i = 0; i < int(1, 2); i++) {
      const sku = pick(catalog);
      const labels = pick(labelSets);
      nodes.push({
        name: `old-${i}`,
        sku: sku.name,
        labels: { ...labels, zone: "z" },
        freeGpus: int(1, sku.gpus),
      });
    }
  }
  const quota: Record<string, number> = {};
  if (options.quotas ?? rand() < 0.5) quota[pick(["f1", "f2"])] = pick([0, 12, 24, 48, 96]);

  const demands: Demand[] = [];
  let budget = options.maxReplicas ?? 6;
  for (let i = 0; i < int(1, 3) && budget > 0; i++) {
    const replicas = int(1, Math.min(3, budget));
    budget -= replicas;
    const d: Demand = {
      name: `d${i}`,
      replicas,
      totalGpuMemoryGiB: pick([8, 20, 35, 70, 150]),
      minGpuMemoryGiB: rand() < 0.2 ? 40 : 0,
      labels: pick(labelSets),
      maxNodesPerReplica: rand() < 0.3 ? 2 : 1,
    };
    if (rand() < 0.2) d.skus = [pick(catalog).name];
    demands.push(d);
  }
  return { catalog, quota, nodes, demands };
}
