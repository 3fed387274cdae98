import { labelKey, labelsInclude, shapeOn } from "./rules.ts";
import type { Plan, Problem } from "./types.ts";

/**
 * Every way `plan` breaks the rules of `problem`, as sentences; empty when it keeps them all.
 * Independent of how the plan was made, so tests and the benchmark can hold any planner to it.
 */
export function checkPlan(problem: Problem, plan: Plan): string[] {
  const errors: string[] = [];
  const skus = new Map(problem.catalog.map((s) => [s.name, s]));
  const demands = new Map(problem.demands.map((d) => [d.name, d]));
  const existing = new Map(problem.nodes.map((n) => [n.name, n]));
  const fresh = new Map<string, Plan["newNodes"][number]>();
  for (const n of plan.newNodes) {
    if (existing.has(n.name) || fresh.has(n.name)) errors.push(`node name ${n.name} is used twice`);
    if (!skus.has(n.sku)) errors.push(`new node ${n.name} has unknown SKU ${n.sku}`);
    fresh.set(n.name, n);
  }

  const used = new Map<string, number>();
  const exclusive = new Set<string>();
  const seen = new Map<string, string[]>();
  for (const p of plan.placements) {
    const d = demands.get(p.demand);
    if (!d) {
      errors.push(`placement names unknown demand ${p.demand}`);
      continue;
    }
    if (!Number.isInteger(p.replica) || p.replica < 0 || p.replica >= d.replicas) {
      errors.push(`${p.demand} has no replica ${p.replica}`);
    }
    const id = `${p.demand}#${p.replica}`;
    seen.set(id, [...(seen.get(id) ?? []), p.node]);
    used.set(p.node, (used.get(p.node) ?? 0) + p.gpus);
    const old = existing.get(p.node);
    const created = fresh.get(p.node);
    const skuName = old?.sku ?? created?.sku;
    const sku = skuName === undefined ? undefined : skus.get(skuName);
    if (!sku) {
      errors.push(`${id} is placed on unknown node ${p.node}`);
      continue;
    }
    const shape = shapeOn(d, sku);
    if (shape.kind === "ineligible") {
      errors.push(`${id} is placed on ${p.node}, whose SKU ${sku.name} is not eligible (${shape.why.code})`);
      continue;
    }
    if (shape.kind === "single" && p.gpus !== shape.gpus) {
      errors.push(`${id} takes ${p.gpus} GPUs on ${p.node} but needs ${shape.gpus}`);
    }
    if (shape.kind === "multi") {
      if (old) errors.push(`multi-node ${id} is placed on existing node ${p.node}`);
      if (p.gpus !== sku.gpus)
        errors.push(`multi-node ${id} takes ${p.gpus} GPUs of ${p.node}, not all ${sku.gpus}`);
      exclusive.add(p.node);
    }
    if (old && !labelsInclude(old.labels, d.labels))
      errors.push(`${id} is on ${p.node}, which lacks its labels`);
    if (created && labelKey(created.labels) !== labelKey(d.labels)) {
      errors.push(`${id} is on new node ${p.node}, whose labels differ from the demand's`);
    }
  }

  for (const [name, gpus] of used) {
    const cap = existing.get(name)?.freeGpus ?? skus.get(fresh.get(name)?.sku ?? "")?.gpus ?? 0;
    if (gpus > cap) errors.push(`node ${name} is given ${gpus} GPUs but has ${cap}`);
  }
  for (const name of exclusive) {
    const on = plan.placements.filter((p) => p.node === name);
    if (on.length !== 1) errors.push(`node ${name} of a multi-node replica also holds other replicas`);
  }
  for (const n of plan.newNodes) if (!used.has(n.name)) errors.push(`new node ${n.name} holds nothing`);

  const unplaced = new Set<string>();
  for (const u of plan.unplaced) {
    const id = `${u.demand}#${u.replica}`;
    if (!u.reason) errors.push(`${id} is unplaced without a reason`);
    if (unplaced.has(id)) errors.push(`${id} is listed unplaced twice`);
    unplaced.add(id);
  }
  for (const d of problem.demands) {
    for (let r = 0; r < d.replicas; r++) {
      const id = `${d.name}#${r}`;
      const nodes = seen.get(id) ?? [];
      if (unplaced.has(id)) {
        if (nodes.length > 0) errors.push(`${id} is both placed and unplaced`);
        continue;
      }
      if (nodes.length === 0) {
        errors.push(`${id} is neither placed nor listed unplaced`);
        continue;
      }
      const first = fresh.get(nodes[0]!) ?? existing.get(nodes[0]!);
      const shape = first && skus.get(first.sku) ? shapeOn(d, skus.get(first.sku)!) : undefined;
      const want = shape?.kind === "multi" ? shape.nodes : 1;
      if (nodes.length !== want || new Set(nodes).size !== nodes.length) {
        errors.push(`${id} is placed on ${nodes.length} nodes but needs ${want} distinct ones`);
      }
      if (nodes.some((n) => (fresh.get(n) ?? existing.get(n))?.sku !== first?.sku)) {
        errors.push(`${id} spans nodes of different SKUs`);
      }
    }
  }

  const vcpus = new Map<string, number>();
  let cost = 0;
  for (const n of plan.newNodes) {
    const sku = skus.get(n.sku);
    if (!sku) continue;
    cost += sku.pricePerHour;
    vcpus.set(sku.family, (vcpus.get(sku.family) ?? 0) + sku.vcpus);
  }
  for (const [family, v] of vcpus) {
    const q = problem.quota[family];
    if (q !== undefined && v > q) errors.push(`family ${family} uses ${v} vCPUs of its ${q} quota`);
  }
  if (Math.abs(cost - plan.costPerHour) > 1e-6 * Math.max(1, cost)) {
    errors.push(`costPerHour is ${plan.costPerHour} but the new nodes cost ${cost}`);
  }
  if (plan.lowerBound > plan.costPerHour + 1e-9)
    errors.push(`lowerBound ${plan.lowerBound} exceeds the cost`);
  return errors;
}
