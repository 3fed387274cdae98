import type { Distribution, LabelGroup, ModelChoice, Scenario } from "./scenario.ts";

/** One workspace of the trace: when it comes, what it runs, how long it stays. */
export interface Arrival {
  id: string;
  at: number;
  lifetime: number;
  model: ModelChoice;
  replicas: number;
  group: LabelGroup;
}

/** A value drawn from `d` (ms); `random` is uniform on [0, 1). */
export function draw(d: Distribution, random: () => number): number {
  switch (d.kind) {
    case "fixed":
      return d.value;
    case "uniform":
      return d.min + (d.max - d.min) * random();
    case "exponential":
      return -d.mean * Math.log(1 - random());
    case "lognormal": {
      // σ from the ratio of p95 to median: p95 = median · e^(1.645σ).
      const sigma = Math.log(d.p95 / d.median) / 1.6448536;
      return d.median * Math.exp(sigma * normal(random));
    }
  }
}

function normal(random: () => number): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function pick<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  const total = items.reduce((s, i) => s + i.weight, 0);
  let x = random() * total;
  for (const item of items) {
    x -= item.weight;
    if (x < 0) return item;
  }
  return items[items.length - 1]!;
}

/**
 * The workload every policy replays: arrivals (Poisson at `rate`, or `count` spread uniformly,
 * plus bursts), each with a model, replicas, a label group and a lifetime. Drawn once from the
 * seed, so all policies see exactly the same workspaces.
 */
export function generateArrivals(scenario: Scenario, random: () => number): Arrival[] {
  const times: number[] = [];
  const { rate, count, bursts } = scenario.arrivals;
  if (rate !== undefined) {
    const meanGap = 3_600_000 / rate;
    for (
      let t = -meanGap * Math.log(1 - random());
      t < scenario.duration;
      t += -meanGap * Math.log(1 - random())
    )
      times.push(t);
  }
  if (count !== undefined) for (let i = 0; i < count; i++) times.push(random() * scenario.duration);
  for (const b of bursts) {
    for (let i = 0; i < b.count; i++) times.push(Math.min(scenario.duration - 1, b.at + random() * b.within));
  }
  times.sort((a, b) => a - b);
  return times.map((at, i) => ({
    id: `ws-${String(i + 1).padStart(5, "0")}`,
    at: Math.round(at),
    model: pick(scenario.models, random),
    replicas: pick(scenario.replicas, random).value,
    group: pick(scenario.labelGroups, random),
    lifetime: Math.max(60_000, Math.round(draw(scenario.lifetime, random))),
  }));
}
