import type { ExistingNode } from "../planner/packing/index.ts";
import { labelKey } from "../planner/packing/rules.ts";
import { placeWorkloads, type Workload, type WorkloadOutcome } from "../planner/placement/index.ts";
import { BatchWindows } from "../planner/placement/window.ts";
import { seededRandom } from "../lib/random.ts";
import { EventClock } from "./event-clock.ts";
import { Fleet, type SimNode } from "./fleet.ts";
import { Meter, type Sample } from "./meter.ts";
import type { Policy, PolicyName } from "./policies.ts";
import type { Scenario } from "./scenario.ts";
import { quantile } from "./stats.ts";
import { draw, type Arrival } from "./workload.ts";

export type { Sample } from "./meter.ts";

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
  return new Simulation(scenario, policy, seed, options).run(arrivals);
}

interface Replica {
  key: string;
  nodes: SimNode[];
  readyAt?: number;
}

interface SimWorkspace {
  arrival: Arrival;
  replicas: Map<number, Replica>;
  /** SKUs whose launches failed every retry for it. */
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

/** Replicas of one workspace to place. */
interface Request {
  ws: SimWorkspace;
  idxs: number[];
}

const HOUR = 3_600_000;
const ZONE_LABEL = "topology.kubernetes.io/zone";

/**
 * One policy's run over the trace. Its state, in the fields below: simulated time, the fleet
 * of nodes (fleet.ts) and the meter of its cost and use (meter.ts), the workspaces present, and
 * those waiting for quota. Placement is kaito's placement policy (planner/placement), called
 * with the policy's planner, as the controller calls it; the rest is what happens around it:
 * launches with their delays and failures, departures, idle timeouts, retries for quota.
 */
class Simulation {
  private readonly scenario: Scenario;
  private readonly policy: Policy;
  private readonly seed: number;
  private readonly options: EngineOptions;
  private readonly clock = new EventClock(0);
  private readonly meter = new Meter();
  private readonly fleet: Fleet;
  private readonly workspaces = new Map<string, SimWorkspace>();
  /**
   * Workspaces with replicas waiting for quota, oldest first. Like the controller, which
   * requeues a workspace it could not place, they are tried again whenever capacity or quota is
   * freed; the oldest goes first and a still-blocked one stops the round, so a freed node costs
   * one or two plans, not one per waiting workspace.
   */
  private readonly waiting: SimWorkspace[] = [];
  private retryScheduled = false;
  private readonly windows?: BatchWindows<Request>;
  private readonly timeToReady: number[] = [];
  private readonly counts = {
    unplaced: 0,
    quotaFailures: 0,
    quotaWaitMs: 0,
    launchFailures: 0,
    fallbacks: 0,
    heuristicPlans: 0,
    servedMs: 0,
  };
  private arrivalsDone = 0;

  constructor(scenario: Scenario, policy: Policy, seed: number, options: EngineOptions) {
    this.scenario = scenario;
    this.policy = policy;
    this.seed = seed;
    this.options = options;
    this.fleet = new Fleet(scenario, this.clock, this.meter);
    // Workspaces of the same labels that arrive together are planned as one problem, as the
    // controller does (planner/placement/window.ts), under the policies that batch.
    if (policy.batching) {
      this.windows = new BatchWindows<Request>({ clock: this.clock, ...policy.batching }, (_, requests) =>
        this.place(requests.filter((r) => !r.ws.departed)),
      );
    }
  }

  async run(arrivals: readonly Arrival[]): Promise<PolicyResult> {
    const { scenario, clock } = this;
    for (const a of arrivals) clock.at(a.at, () => this.arrive(a));
    for (let t = 0; t <= scenario.duration; t += scenario.sampleEvery) {
      clock.at(t, () => this.meter.sample(clock.now(), this.fleet.nodes.size));
    }
    await clock.runUntil(scenario.duration);
    this.meter.advance(clock.now());
    if (this.meter.samples.at(-1)?.t !== scenario.duration) {
      this.meter.sample(clock.now(), this.fleet.nodes.size);
    }
    for (const node of this.fleet.nodes.values()) this.fleet.bill(node);
    for (const ws of this.workspaces.values()) {
      this.giveUp(ws);
      for (const rep of ws.replicas.values()) {
        if (rep.readyAt !== undefined) this.counts.servedMs += clock.now() - rep.readyAt;
      }
    }
    return this.result(arrivals);
  }

  private async arrive(a: Arrival): Promise<void> {
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
    this.workspaces.set(a.id, ws);
    const request = { ws, idxs: Array.from({ length: a.replicas }, (_, i) => i) };
    if (this.windows) this.windows.add(labelKey(this.labelsOf(ws)), a.id, request);
    else await this.place([request]);
    this.clock.schedule(a.lifetime, () => this.depart(ws));
    this.options.onArrival?.(++this.arrivalsDone);
  }

  private labelsOf(ws: SimWorkspace): Record<string, string> {
    const zone = ws.arrival.group.zone;
    const labels = { ...ws.arrival.group.labels };
    return zone === undefined ? labels : { ...labels, [ZONE_LABEL]: zone };
  }

  /** The sizes a workspace may use: offered in its zone, not failed for it, its named one under `dedicated`. */
  private skusOf(ws: SimWorkspace): string[] {
    const zone = ws.arrival.group.zone;
    // A named size is all KAITO has: after failed launches it tries that size again.
    const named = this.policy.usesNamedInstanceTypes ? ws.arrival.model.instanceType : undefined;
    return this.scenario.catalog
      .filter((s) => zone === undefined || (this.scenario.zones[s.name] ?? [zone]).includes(zone))
      .filter((s) => (named ? s.name === named : !ws.excluded.has(s.name)))
      .map((s) => s.name);
  }

  /**
   * Places the requests by kaito's placement policy, as one batch. Only occupied nodes are
   * offered, at no cost: they stay up for their occupants anyway. An idle node is not free (it
   * is billed until its idle timeout removes it), so it is offered the only honest way: it
   * stands in for a new node of its size and labels that the plan buys anyway.
   */
  private async place(requests: Request[]): Promise<void> {
    if (requests.length === 0) return;
    const { scenario, fleet } = this;
    const existing: ExistingNode[] = [];
    const idle: SimNode[] = [];
    for (const n of fleet.nodes.values()) {
      if (n.occupants.size === 0) {
        if (n.ready) idle.push(n);
        continue;
      }
      if (n.free === 0 || !this.policy.sharesNodes) continue;
      existing.push({ name: n.name, sku: n.sku.name, labels: n.labels, freeGpus: n.free });
    }
    // Idle nodes hold quota they would give back on removal, so the plan may count on it.
    const quota: Record<string, number> = {};
    for (const [family, limit] of Object.entries(scenario.quota)) {
      const reclaimable = idle.filter((n) => n.sku.family === family).reduce((s, n) => s + n.sku.vcpus, 0);
      quota[family] = limit - fleet.used(family) + reclaimable;
    }
    const workloads: Workload[] = requests.map(({ ws, idxs }) => ({
      name: ws.arrival.id,
      replicas: idxs.length,
      totalGpuMemoryGiB: ws.arrival.model.totalGpuMemoryGiB,
      minGpuMemoryGiB: ws.arrival.model.minGpuMemoryGiB,
      labels: this.labelsOf(ws),
      skus: this.skusOf(ws),
    }));
    const batch = await placeWorkloads(
      workloads,
      {
        catalog: scenario.catalog,
        quota,
        quotaLimits: scenario.quota,
        nodes: existing,
        weighQuota: this.policy.weighsQuota,
      },
      async (problem) => {
        const plan = await this.policy.plan({ catalog: scenario.catalog, ...problem }, this.clock);
        if (plan.status === "heuristic") this.counts.heuristicPlans++;
        return plan;
      },
    );
    this.apply(requests, batch.outcomes, idle);
  }

  /** Launches (or reuses) the batch's nodes, then seats each placed replica and queues the rest. */
  private apply(requests: Request[], outcomes: WorkloadOutcome[], idle: SimNode[]): void {
    const { clock, fleet, scenario } = this;
    const byPlanName = new Map<string, SimNode>();
    requests.forEach(({ ws }, i) => {
      const outcome = outcomes[i]!;
      if (!("placement" in outcome)) return;
      for (const nn of outcome.placement.newNodes) {
        const reuse = idle.findIndex((n) => n.sku.name === nn.sku && sameLabels(n.labels, nn.labels));
        if (reuse >= 0) {
          const node = idle.splice(reuse, 1)[0]!;
          node.cancelTimer?.();
          node.cancelTimer = undefined;
          byPlanName.set(nn.name, node);
          continue;
        }
        const sku = scenario.catalog.find((s) => s.name === nn.sku)!;
        // A launch the quota cannot take while idle nodes hold it: those go now.
        const limit = scenario.quota[sku.family];
        while (limit !== undefined && fleet.used(sku.family) + sku.vcpus > limit) {
          const i = idle.findIndex((n) => n.sku.family === sku.family);
          if (i < 0) break;
          this.removeNode(idle.splice(i, 1)[0]!);
        }
        const node = fleet.add(sku, { ...nn.labels }, this.launchLuck(ws));
        this.launch(node);
        byPlanName.set(nn.name, node);
      }
    });
    this.meter.advance(clock.now());
    const touched: string[] = [];
    requests.forEach(({ ws, idxs }, i) => {
      const outcome = outcomes[i]!;
      if (!("placement" in outcome)) return this.unplaced(ws, idxs, outcome.failure.code);
      const p = outcome.placement;
      p.replicaNodes.forEach((nodes, r) => {
        const idx = idxs[r]!;
        const key = `${ws.arrival.id}#${idx}`;
        const rep: Replica = { key, nodes: [] };
        ws.replicas.set(idx, rep);
        for (const name of nodes) {
          const node = byPlanName.get(name) ?? fleet.nodes.get(name)!;
          rep.nodes.push(node);
          node.occupants.set(key, (node.occupants.get(key) ?? 0) + p.gpusPerPod);
          node.free -= p.gpusPerPod;
          this.meter.allocate(clock.now(), p.gpusPerPod);
          if (node.free < 0) throw new Error(`internal: ${this.policy.name} overfilled ${node.name}`);
          // A reused idle node is busy again.
          if (node.ready && node.cancelTimer) {
            node.cancelTimer();
            node.cancelTimer = undefined;
          }
        }
        touched.push(key);
      });
    });
    for (const key of touched) this.checkReplica(key);
  }

  /** Replicas without a place: quota may come back, a model no SKU can host never will. */
  private unplaced(ws: SimWorkspace, idxs: number[], code: string): void {
    if (code === "NoEligibleSku") {
      this.counts.unplaced += idxs.length;
      return;
    }
    for (const idx of idxs) {
      if (!ws.quotaHit.has(idx)) {
        ws.quotaHit.add(idx);
        this.counts.quotaFailures++;
      }
      ws.waiting.set(idx, this.clock.now());
    }
    if (!this.waiting.includes(ws)) this.waiting.push(ws);
  }

  /**
   * Common random numbers: a launch's boot delays and failures depend on the workspace it is
   * for and how many launches that workspace made before, never on what other workspaces did,
   * so the policies are compared on the same luck rather than on a shared stream that each of
   * them consumes differently.
   */
  private launchLuck(ws: SimWorkspace): () => number {
    return seededRandom(hashString(`${ws.arrival.id}#${ws.launches++}`) ^ this.seed);
  }

  private launch(node: SimNode): void {
    const { provisioning } = this.scenario;
    const delay = draw(provisioning.perSku[node.sku.name] ?? provisioning.delay, node.luck);
    const failed = node.luck() < provisioning.failureRate;
    node.cancelTimer = this.clock.schedule(
      delay,
      failed ? () => this.launchFailed(node) : () => this.nodeReady(node),
    );
  }

  private nodeReady(node: SimNode): void {
    node.ready = true;
    node.cancelTimer = undefined;
    for (const key of node.occupants.keys()) this.checkReplica(key);
  }

  private async launchFailed(node: SimNode): Promise<void> {
    this.counts.launchFailures++;
    node.attempts++;
    if (node.attempts <= this.scenario.provisioning.maxRetries) {
      node.cancelTimer = this.clock.schedule(this.scenario.provisioning.retryBackoff, () =>
        this.launch(node),
      );
      return;
    }
    // Out of retries: the replicas waiting on this node go back to the policy, without this SKU.
    const affected = new Map<SimWorkspace, number[]>();
    for (const key of node.occupants.keys()) {
      const [id, idx] = splitKey(key);
      const ws = this.workspaces.get(id)!;
      affected.set(ws, [...(affected.get(ws) ?? []), idx]);
    }
    node.cancelTimer = undefined;
    for (const [ws, idxs] of affected) for (const idx of idxs) this.releaseReplica(ws, idx);
    if (this.fleet.nodes.has(node.name)) this.removeNode(node);
    for (const [ws, idxs] of affected) {
      ws.excluded.add(node.sku.name);
      this.counts.fallbacks += idxs.length;
      await this.place([{ ws, idxs }]);
    }
  }

  private removeNode(node: SimNode): void {
    this.fleet.remove(node);
    this.freed();
  }

  private releaseReplica(ws: SimWorkspace, idx: number): void {
    const rep = ws.replicas.get(idx);
    if (!rep) return;
    const now = this.clock.now();
    if (rep.readyAt !== undefined) this.counts.servedMs += now - rep.readyAt;
    ws.replicas.delete(idx);
    for (const node of new Set(rep.nodes)) {
      const gpus = node.occupants.get(rep.key) ?? 0;
      node.occupants.delete(rep.key);
      node.free += gpus;
      this.meter.allocate(now, -gpus);
      if (node.occupants.size === 0 && this.fleet.nodes.has(node.name)) this.nodeEmptied(node);
    }
    this.freed();
  }

  private nodeEmptied(node: SimNode): void {
    // Nobody waits for a node still launching: stop the launch (and its bill).
    if (!node.ready || this.scenario.idleTimeout === 0) return this.removeNode(node);
    node.cancelTimer = this.clock.schedule(this.scenario.idleTimeout, () => {
      if (node.occupants.size === 0 && this.fleet.nodes.has(node.name)) this.removeNode(node);
    });
  }

  private checkReplica(key: string): void {
    const [id, idx] = splitKey(key);
    const ws = this.workspaces.get(id);
    const rep = ws?.replicas.get(idx);
    if (!ws || !rep || rep.readyAt !== undefined || !rep.nodes.every((n) => n.ready)) return;
    rep.readyAt = this.clock.now();
    if (ws.readyRecorded || ws.replicas.size === 0 || ws.waiting.size > 0) return;
    if ([...ws.replicas.values()].every((r) => r.readyAt !== undefined)) {
      ws.readyRecorded = true;
      this.timeToReady.push(this.clock.now() - ws.arrival.at);
    }
  }

  /** Capacity or quota came free: the waiting workspaces are tried again, soon. */
  private freed(): void {
    if (this.retryScheduled || this.waiting.length === 0) return;
    this.retryScheduled = true;
    this.clock.schedule(0, () => this.retryWaiting());
  }

  private async retryWaiting(): Promise<void> {
    this.retryScheduled = false;
    while (this.waiting.length > 0) {
      const ws = this.waiting[0]!;
      if (ws.departed || ws.waiting.size === 0) {
        this.waiting.shift();
        continue;
      }
      const idxs = [...ws.waiting.keys()];
      for (const [, since] of ws.waiting) this.counts.quotaWaitMs += this.clock.now() - since;
      ws.waiting.clear();
      await this.place([{ ws, idxs }]);
      if (ws.waiting.size > 0) break;
      this.waiting.shift();
    }
  }

  private depart(ws: SimWorkspace): void {
    ws.departed = true;
    this.windows?.remove(labelKey(this.labelsOf(ws)), ws.arrival.id);
    this.giveUp(ws);
    for (const idx of [...ws.replicas.keys()]) this.releaseReplica(ws, idx);
    this.workspaces.delete(ws.arrival.id);
  }

  /** Replicas still waiting for quota count as unplaced. */
  private giveUp(ws: SimWorkspace): void {
    for (const [, since] of ws.waiting) this.counts.quotaWaitMs += this.clock.now() - since;
    this.counts.unplaced += ws.waiting.size;
    ws.waiting.clear();
  }

  private result(arrivals: readonly Arrival[]): PolicyResult {
    const { counts, fleet, meter, timeToReady } = this;
    const servedReplicaHours = counts.servedMs / HOUR;
    return {
      policy: this.policy.name,
      totalCost: meter.cost,
      servedReplicaHours,
      costPerServedReplicaHour: servedReplicaHours > 0 ? meter.cost / servedReplicaHours : 0,
      meanAllocation: meter.meanAllocation(),
      peakNodes: fleet.peakNodes,
      nodesLaunched: fleet.launched,
      timeToReady,
      ...optional("timeToReadyP50", quantile(timeToReady, 0.5)),
      ...optional("timeToReadyP95", quantile(timeToReady, 0.95)),
      workspaces: arrivals.length,
      replicasRequested: arrivals.reduce((s, a) => s + a.replicas, 0),
      unplaced: counts.unplaced,
      quotaFailures: counts.quotaFailures,
      quotaWaitMs: counts.quotaWaitMs,
      launchFailures: counts.launchFailures,
      fallbacks: counts.fallbacks,
      heuristicPlans: counts.heuristicPlans,
      costBySku: fleet.costBySku,
      peakQuotaUse: fleet.peakQuotaUse,
      samples: meter.samples,
    };
  }
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
