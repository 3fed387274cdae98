import type { SkuSpec } from "../planner/packing/index.ts";
import type { EventClock } from "./event-clock.ts";
import type { Meter } from "./meter.ts";
import type { Scenario } from "./scenario.ts";

/** A node of the simulated fleet. */
export interface SimNode {
  name: string;
  sku: SkuSpec;
  labels: Record<string, string>;
  free: number;
  ready: boolean;
  attempts: number;
  /** Draws of its boot delays and launch failures (common random numbers, see engine.ts). */
  luck: () => number;
  /** When its bill started. */
  since: number;
  /** Replica keys (workspace id + index) → GPUs they hold here. */
  occupants: Map<string, number>;
  cancelTimer?: () => void;
}

const HOUR = 3_600_000;

/**
 * The nodes that exist, and what they cost and take of the quota: adding a node starts its bill
 * and takes its vCPUs from its family, removing it ends both. Launch delays and failures are
 * the engine's; this is bookkeeping only.
 */
export class Fleet {
  readonly nodes = new Map<string, SimNode>();
  /** Cost per SKU, USD. */
  readonly costBySku: Record<string, number> = {};
  /** Highest vCPUs in use per quota-limited family at any moment. */
  readonly peakQuotaUse: Record<string, number> = {};
  launched = 0;
  peakNodes = 0;
  private readonly quotaUse = new Map<string, number>();
  private seq = 0;
  private readonly scenario: Scenario;
  private readonly clock: EventClock;
  private readonly meter: Meter;

  constructor(scenario: Scenario, clock: EventClock, meter: Meter) {
    this.scenario = scenario;
    this.clock = clock;
    this.meter = meter;
  }

  add(sku: SkuSpec, labels: Record<string, string>, luck: () => number): SimNode {
    const node: SimNode = {
      name: `node-${++this.seq}`,
      sku,
      labels,
      free: sku.gpus,
      ready: false,
      attempts: 0,
      luck,
      since: this.clock.now(),
      occupants: new Map(),
    };
    this.nodes.set(node.name, node);
    this.meter.node(this.clock.now(), 1, sku.pricePerHour, sku.gpus);
    this.launched++;
    this.peakNodes = Math.max(this.peakNodes, this.nodes.size);
    if (sku.family in this.scenario.quota) {
      const used = (this.quotaUse.get(sku.family) ?? 0) + sku.vcpus;
      this.quotaUse.set(sku.family, used);
      this.peakQuotaUse[sku.family] = Math.max(this.peakQuotaUse[sku.family] ?? 0, used);
    }
    return node;
  }

  remove(node: SimNode): void {
    node.cancelTimer?.();
    this.bill(node);
    this.nodes.delete(node.name);
    this.meter.node(this.clock.now(), -1, node.sku.pricePerHour, node.sku.gpus);
    if (this.quotaUse.has(node.sku.family)) {
      this.quotaUse.set(node.sku.family, this.quotaUse.get(node.sku.family)! - node.sku.vcpus);
    }
  }

  /** vCPUs of `family` in use. */
  used(family: string): number {
    return this.quotaUse.get(family) ?? 0;
  }

  /** Adds what `node` has cost since its bill started to its SKU's total. */
  bill(node: SimNode): void {
    const name = node.sku.name;
    this.costBySku[name] =
      (this.costBySku[name] ?? 0) + (node.sku.pricePerHour * (this.clock.now() - node.since)) / HOUR;
  }
}
