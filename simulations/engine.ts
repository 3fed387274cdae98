import type { Demand, ExistingNode, SkuSpec } from "../planner/packing/index.ts";
import { EventClock } from "./event-clock.ts";
import type { Policy, PolicyName } from "./policies.ts";
import { MAX_NODES_PER_REPLICA, type Scenario } from "./scenario.ts";
import { quantile } from "./stats.ts";
import { draw, type Arrival } from "./workload.ts";
import { seededRandom } from "../lib/random.ts";

/** One point of the time series, taken every `scenario.sampleEvery`. */
export interface Sample {
  /** ms since the start. */
  t: number;
  /** Cost so far, USD. */
  cost: number;
  costPerHour: number;
  allocatedGpus: number;
  capacityGpus: number;
  nodes: number;
}

export interface PolicyResult {
  policy: PolicyName;
  totalCost: number;
  /** Replica-hours during which a replica was placed and all its nodes were ready. */
  servedReplicaHours: number;
  costPerServedReplicaHour: number;
  /** Time-weighted allocated / capacity GPUs over the whole run. */
  meanAllocation: number;
  peakNodes: number;
  nodesLaunched: number;
  /** ms from arrival until every placed replica of a workspace was ready, one per workspace. */
  timeToReady: number[];
  timeToReadyP50?: number;
  timeToReadyP95?: number;
  workspaces: number;
  replicasRequested: number;
  /**
   * Replicas never placed: no SKU can host them, or they were still waiting for quota when
   * their workspace left or the simulation ended.
   */
  unplaced: number;
  /** Replicas that found every eligible family out of vCPU quota and had to wait. */
  quotaFailures: number;
  /** Total time replicas spent waiting for quota, ms. */
  quotaWaitMs: number;
  /** Node launches that failed (each retry counts). */
  launchFailures: number;
  /** Replicas placed again after their node's SKU failed every retry. */
  fallbacks: number;
  /** milp only: plans where the solver ran out of time and first-fit stood in. */
  heuristicPlans: number;
  /** Cost per SKU, USD: where the money went. */
  costBySku: Record<string, number>;
  /** Highest vCPUs in use per quota-limited family at any moment. */
  peakQuotaUse: Record<string, number>;
  samples: Sample[];
}

export interface EngineOptions {
  /** Called after each arrival is handled: arrivals done so far. */
  onArrival?: (done: number) => void;
}

interface SimNode {
  name: string;
  sku: SkuSpec;
  labels: Record<string, string>;
  free: number;
  ready: boolean;
  attempts: number;
  /** Draws of its boot delays and launch failures (see launchLuck). */
  luck: () => number;
  /** When its bill started. */
  since: number;
  /** Replica keys (workspace id + index) → GPUs they hold here. */
  occupants: Map<string, number>;
  cancelTimer?: () => void;
}

interface Replica {
  key: string;
  nodes: SimNode[];
  readyAt?: number;
}

interface SimWorkspace {
  arrival: Arrival;
  replicas: Map<number, Replica>;
  excluded: Set<string>;
  readyRecorded: boolean;
  departed: boolean;
  /** Replica indexes waiting for quota, and since when. */
  waiting: Map<number, number>;
  /** Replicas that have hit the quota once (counted once each). */
  quotaHit: Set<number>;
  /** Nodes launched for it so far: keys the luck of the next one. */
  launches: number;
}

const HOUR = 3_600_000;
const ZONE_LABEL = "topology.kubernetes.io/zone";

/**
 * Replays `arrivals` through one policy on simulated time. Pure: no I/O, no wall clock; the
 * same scenario, arrivals and seed give the same result.
 */
export async function simulatePolicy(
  scenario: Scenario,
  arrivals: readonly Arrival[],
  policy: Policy,
  seed: number,
  options: EngineOptions = {},
): Promise<PolicyResult> {
  const clock = new EventClock(0);
  const nodes = new Map<string, SimNode>();
  const workspaces = new Map<string, SimWorkspace>();
  const quotaUse = new Map<string, number>();
  const peakQuotaUse: Record<string, number> = {};
  const costBySku: Record<string, number> = {};
  const bill = (node: SimNode) => {
    costBySku[node.sku.name] =
      (costBySku[node.sku.name] ?? 0) + (node.sku.pricePerHour * (clock.now() - node.since)) / HOUR;
  };
  const samples: Sample[] = [];
  const timeToReady: number[] = [];
  let nodeSeq = 0;
  let arrivalsDone = 0;
  const r = {
    unplaced: 0,
    quotaFailures: 0,
    quotaWaitMs: 0,
    launchFailures: 0,
    fallbacks: 0,
    heuristicPlans: 0,
    nodesLaunched: 0,
    peakNodes: 0,
    servedMs: 0,
  };

  // Workspaces with replicas waiting for quota, oldest first. Like the controller, which
  // requeues a workspace it could not place, they are tried again whenever capacity or quota
  // is freed; the oldest goes first and a still-blocked one stops the round, so a freed node
  // costs one or two plans, not one per waiting workspace.
  const queue: SimWorkspace[] = [];
  let retryScheduled = false;
  const freed = () => {
    if (retryScheduled || queue.length === 0) return;
    retryScheduled = true;
    clock.schedule(0, retryWaiting);
  };
  const retryWaiting = async () => {
    retryScheduled = false;
    while (queue.length > 0) {
      const ws = queue[0]!;
      if (ws.departed || ws.waiting.size === 0) {
        queue.shift();
        continue;
      }
      const idxs = [...ws.waiting.keys()];
      for (const [, since] of ws.waiting) r.quotaWaitMs += clock.now() - since;
      ws.waiting.clear();
      await place(ws, idxs);
      if (ws.waiting.size > 0) break;
      queue.shift();
    }
  };

  // Running totals, integrated over time at every change.
  let last = 0;
  let cost = 0;
  let pricePerHour = 0;
  let allocated = 0;
  let capacity = 0;
  let allocTime = 0;
  let capTime = 0;
  const advance = () => {
    const dt = clock.now() - last;
    cost += (pricePerHour * dt) / HOUR;
    allocTime += allocated * dt;
    capTime += capacity * dt;
    last = clock.now();
  };

  const skuOffered = (sku: SkuSpec, zone: string | undefined) =>
    zone === undefined || (scenario.zones[sku.name] ?? [zone]).includes(zone);

  // Common random numbers: a launch's boot delays and failures depend on the workspace it is for
  // and how many launches that workspace made before, never on what other workspaces did, so
  // the policies are compared on the same luck rather than on a shared stream that each of
  // them consumes differently.
  const launchLuck = (ws: SimWorkspace) =>
    seededRandom(hashString(`${ws.arrival.id}#${ws.launches++}`) ^ seed);

  const addNode = (sku: SkuSpec, labels: Record<string, string>, luck: () => number): SimNode => {
    advance();
    const node: SimNode = {
      name: `node-${++nodeSeq}`,
      sku,
      labels,
      free: sku.gpus,
      ready: false,
      attempts: 0,
      luck,
      since: clock.now(),
      occupants: new Map(),
    };
    nodes.set(node.name, node);
    pricePerHour = roundPrice(pricePerHour + sku.pricePerHour);
    capacity += sku.gpus;
    r.nodesLaunched++;
    r.peakNodes = Math.max(r.peakNodes, nodes.size);
    if (sku.family in scenario.quota) {
      const used = (quotaUse.get(sku.family) ?? 0) + sku.vcpus;
      quotaUse.set(sku.family, used);
      peakQuotaUse[sku.family] = Math.max(peakQuotaUse[sku.family] ?? 0, used);
    }
    launch(node);
    return node;
  };

  const removeNode = (node: SimNode) => {
    advance();
    node.cancelTimer?.();
    bill(node);
    nodes.delete(node.name);
    pricePerHour = roundPrice(pricePerHour - node.sku.pricePerHour);
    capacity -= node.sku.gpus;
    if (quotaUse.has(node.sku.family))
      quotaUse.set(node.sku.family, quotaUse.get(node.sku.family)! - node.sku.vcpus);
    freed();
  };

  const launch = (node: SimNode) => {
    const delay = draw(scenario.provisioning.perSku[node.sku.name] ?? scenario.provisioning.delay, node.luck);
    const failed = node.luck() < scenario.provisioning.failureRate;
    node.cancelTimer = clock.schedule(delay, failed ? () => launchFailed(node) : () => nodeReady(node));
  };

  const nodeReady = (node: SimNode) => {
    node.ready = true;
    node.cancelTimer = undefined;
    for (const key of node.occupants.keys()) checkReplica(key);
  };

  const launchFailed = async (node: SimNode) => {
    r.launchFailures++;
    node.attempts++;
    if (node.attempts <= scenario.provisioning.maxRetries) {
      node.cancelTimer = clock.schedule(scenario.provisioning.retryBackoff, () => launch(node));
      return;
    }
    // Out of retries: the replicas waiting on this node go back to the policy, without this SKU.
    const affected = new Map<SimWorkspace, number[]>();
    for (const key of node.occupants.keys()) {
      const [id, idx] = splitKey(key);
      const ws = workspaces.get(id)!;
      affected.set(ws, [...(affected.get(ws) ?? []), idx]);
    }
    node.cancelTimer = undefined;
    for (const [ws, idxs] of affected) {
      for (const idx of idxs) releaseReplica(ws, idx);
    }
    if (nodes.has(node.name)) removeNode(node);
    for (const [ws, idxs] of affected) {
      ws.excluded.add(node.sku.name);
      r.fallbacks += idxs.length;
      await place(ws, idxs);
    }
  };

  const releaseReplica = (ws: SimWorkspace, idx: number) => {
    const rep = ws.replicas.get(idx);
    if (!rep) return;
    advance();
    if (rep.readyAt !== undefined) r.servedMs += clock.now() - rep.readyAt;
    ws.replicas.delete(idx);
    for (const node of new Set(rep.nodes)) {
      const gpus = node.occupants.get(rep.key) ?? 0;
      node.occupants.delete(rep.key);
      node.free += gpus;
      allocated -= gpus;
      if (node.occupants.size === 0 && nodes.has(node.name)) nodeEmptied(node);
    }
    freed();
  };

  const nodeEmptied = (node: SimNode) => {
    if (!node.ready) {
      // Nobody waits for it any more: stop the launch (and its bill).
      removeNode(node);
      return;
    }
    if (scenario.idleTimeout === 0) return removeNode(node);
    node.cancelTimer = clock.schedule(scenario.idleTimeout, () => {
      if (node.occupants.size === 0 && nodes.has(node.name)) removeNode(node);
    });
  };

  const checkReplica = (key: string) => {
    const [id, idx] = splitKey(key);
    const ws = workspaces.get(id);
    const rep = ws?.replicas.get(idx);
    if (!ws || !rep || rep.readyAt !== undefined) return;
    if (rep.nodes.every((n) => n.ready)) {
      rep.readyAt = clock.now();
      checkWorkspace(ws);
    }
  };

  const checkWorkspace = (ws: SimWorkspace) => {
    if (ws.readyRecorded || ws.replicas.size === 0 || ws.waiting.size > 0) return;
    if ([...ws.replicas.values()].every((rep) => rep.readyAt !== undefined)) {
      ws.readyRecorded = true;
      timeToReady.push(clock.now() - ws.arrival.at);
    }
  };

  const place = async (ws: SimWorkspace, idxs: number[]) => {
    const a = ws.arrival;
    const zone = a.group.zone;
    const labels = zone === undefined ? { ...a.group.labels } : { ...a.group.labels, [ZONE_LABEL]: zone };
    // A named size is all KAITO has: after failed launches it tries that size again.
    const named = policy.usesNamedInstanceTypes ? a.model.instanceType : undefined;
    const restricted = zone !== undefined || ws.excluded.size > 0 || named !== undefined;
    const skus = scenario.catalog
      .filter((s) => skuOffered(s, zone) && (named ? s.name === named : !ws.excluded.has(s.name)))
      .map((s) => s.name);
    const demand: Demand = {
      name: a.id,
      replicas: idxs.length,
      totalGpuMemoryGiB: a.model.totalGpuMemoryGiB,
      minGpuMemoryGiB: a.model.minGpuMemoryGiB,
      labels,
      maxNodesPerReplica: MAX_NODES_PER_REPLICA,
      ...(restricted ? { skus } : {}),
    };
    // Only occupied nodes are offered, at no cost: they stay up for their occupants anyway. An
    // idle node is not free (it is billed until its idle timeout removes it), so it is offered
    // the only honest way: it stands in for a new node of its size and labels that the plan
    // buys anyway, saving the boot but not the price.
    const existing: ExistingNode[] = [];
    const idle: SimNode[] = [];
    for (const n of nodes.values()) {
      if (n.occupants.size === 0) {
        if (n.ready) idle.push(n);
        continue;
      }
      if (n.free === 0 || !policy.sharesNodes) continue;
      if (!Object.entries(labels).every(([k, v]) => n.labels[k] === v)) continue;
      existing.push({ name: n.name, sku: n.sku.name, labels: n.labels, freeGpus: n.free });
    }
    // Idle nodes hold quota they would give back on removal, so the plan may count on it.
    const quota: Record<string, number> = {};
    for (const [fam, limit] of Object.entries(scenario.quota)) {
      const reclaimable = idle.filter((n) => n.sku.family === fam).reduce((s, n) => s + n.sku.vcpus, 0);
      quota[fam] = limit - (quotaUse.get(fam) ?? 0) + reclaimable;
    }
    // As the controller asks (controller/workspace/placement.ts): a replica spans several nodes
    // only when it cannot be placed on one.
    const planWith = (maxNodesPerReplica: number) =>
      policy.plan(
        { catalog: scenario.catalog, quota, nodes: existing, demands: [{ ...demand, maxNodesPerReplica }] },
        clock,
      );
    let plan = await planWith(1);
    if (plan.unplaced.length > 0) plan = await planWith(MAX_NODES_PER_REPLICA);
    if (plan.status === "heuristic") r.heuristicPlans++;

    const byPlanName = new Map<string, SimNode>();
    const launches: { name: string; sku: SkuSpec; labels: Record<string, string> }[] = [];
    for (const nn of plan.newNodes) {
      const i = idle.findIndex((n) => n.sku.name === nn.sku && sameLabels(n.labels, nn.labels));
      if (i >= 0) {
        const node = idle.splice(i, 1)[0]!;
        node.cancelTimer?.();
        node.cancelTimer = undefined;
        byPlanName.set(nn.name, node);
      } else {
        launches.push({
          name: nn.name,
          sku: scenario.catalog.find((s) => s.name === nn.sku)!,
          labels: nn.labels,
        });
      }
    }
    // Launches the quota cannot take while idle nodes hold it: remove those idle nodes now.
    for (const l of launches) {
      const limit = scenario.quota[l.sku.family];
      while (limit !== undefined && (quotaUse.get(l.sku.family) ?? 0) + l.sku.vcpus > limit) {
        const i = idle.findIndex((n) => n.sku.family === l.sku.family);
        if (i < 0) break;
        removeNode(idle.splice(i, 1)[0]!);
      }
      byPlanName.set(l.name, addNode(l.sku, { ...l.labels }, launchLuck(ws)));
    }
    advance();
    const touched = new Set<string>();
    for (const p of plan.placements) {
      const node = byPlanName.get(p.node) ?? nodes.get(p.node)!;
      const idx = idxs[p.replica]!;
      const key = `${a.id}#${idx}`;
      let rep = ws.replicas.get(idx);
      if (!rep) {
        rep = { key, nodes: [] };
        ws.replicas.set(idx, rep);
      }
      rep.nodes.push(node);
      node.occupants.set(key, (node.occupants.get(key) ?? 0) + p.gpus);
      node.free -= p.gpus;
      allocated += p.gpus;
      if (node.free < 0) throw new Error(`internal: ${policy.name} overfilled ${node.name}`);
      // A reused idle node is busy again.
      if (node.ready && node.cancelTimer) {
        node.cancelTimer();
        node.cancelTimer = undefined;
      }
      touched.add(key);
    }
    for (const u of plan.unplaced) {
      const idx = idxs[u.replica]!;
      // Quota may come back; a model no SKU can host never will.
      if (!u.reason.includes("quota")) {
        r.unplaced++;
        continue;
      }
      if (!ws.quotaHit.has(idx)) {
        ws.quotaHit.add(idx);
        r.quotaFailures++;
      }
      ws.waiting.set(idx, clock.now());
    }
    if (ws.waiting.size > 0 && !queue.includes(ws)) queue.push(ws);
    for (const key of touched) checkReplica(key);
  };

  const arrive = async (a: Arrival) => {
    const ws: SimWorkspace = {
      arrival: a,
      replicas: new Map(),
      excluded: new Set(),
      readyRecorded: false,
      departed: false,
      waiting: new Map(),
      quotaHit: new Set(),
      launches: 0,
    };
    workspaces.set(a.id, ws);
    await place(
      ws,
      Array.from({ length: a.replicas }, (_, i) => i),
    );
    clock.schedule(a.lifetime, () => depart(ws));
    options.onArrival?.(++arrivalsDone);
  };

  const depart = (ws: SimWorkspace) => {
    ws.departed = true;
    giveUp(ws);
    for (const idx of [...ws.replicas.keys()]) releaseReplica(ws, idx);
    workspaces.delete(ws.arrival.id);
  };

  const giveUp = (ws: SimWorkspace) => {
    for (const [, since] of ws.waiting) r.quotaWaitMs += clock.now() - since;
    r.unplaced += ws.waiting.size;
    ws.waiting.clear();
  };

  const sample = () => {
    advance();
    samples.push({
      t: clock.now(),
      cost,
      costPerHour: pricePerHour,
      allocatedGpus: allocated,
      capacityGpus: capacity,
      nodes: nodes.size,
    });
  };

  for (const a of arrivals) clock.at(a.at, () => arrive(a));
  for (let t = 0; t <= scenario.duration; t += scenario.sampleEvery) clock.at(t, sample);
  await clock.runUntil(scenario.duration);
  advance();
  if (samples[samples.length - 1]?.t !== scenario.duration) sample();
  for (const node of nodes.values()) bill(node);
  for (const ws of workspaces.values()) {
    giveUp(ws);
    for (const rep of ws.replicas.values())
      if (rep.readyAt !== undefined) r.servedMs += clock.now() - rep.readyAt;
  }

  const servedReplicaHours = r.servedMs / HOUR;
  return {
    policy: policy.name,
    totalCost: cost,
    servedReplicaHours,
    costPerServedReplicaHour: servedReplicaHours > 0 ? cost / servedReplicaHours : 0,
    meanAllocation: capTime > 0 ? allocTime / capTime : 0,
    peakNodes: r.peakNodes,
    nodesLaunched: r.nodesLaunched,
    timeToReady,
    ...optional("timeToReadyP50", quantile(timeToReady, 0.5)),
    ...optional("timeToReadyP95", quantile(timeToReady, 0.95)),
    workspaces: arrivals.length,
    replicasRequested: arrivals.reduce((s, a) => s + a.replicas, 0),
    unplaced: r.unplaced,
    quotaFailures: r.quotaFailures,
    quotaWaitMs: r.quotaWaitMs,
    launchFailures: r.launchFailures,
    fallbacks: r.fallbacks,
    heuristicPlans: r.heuristicPlans,
    costBySku,
    peakQuotaUse,
    samples,
  };
}

// Prices have at most a few decimals; rounding the running sum keeps float drift from leaving
// a ghost cost once every node is gone.
function roundPrice(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** FNV-1a: a stable 32-bit seed from a string. */
function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf("#");
  return [key.slice(0, i), Number(key.slice(i + 1))];
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
