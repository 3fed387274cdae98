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

const HOUR = 3_600_000;

/**
 * The fleet's running totals, integrated over simulated time: money spent, and GPU-hours
 * allocated and available. Every change of price, capacity or allocation first brings the
 * integrals up to `now`, so they are exact between events.
 */
export class Meter {
  cost = 0;
  pricePerHour = 0;
  allocated = 0;
  capacity = 0;
  readonly samples: Sample[] = [];
  private last = 0;
  private allocTime = 0;
  private capTime = 0;

  /** Integrates up to `now`. */
  advance(now: number): void {
    const dt = now - this.last;
    this.cost += (this.pricePerHour * dt) / HOUR;
    this.allocTime += this.allocated * dt;
    this.capTime += this.capacity * dt;
    this.last = now;
  }

  /** A node came (+1) or went (−1). */
  node(now: number, sign: 1 | -1, pricePerHour: number, gpus: number): void {
    this.advance(now);
    // Prices have a few decimals: rounding the running sum keeps float drift from leaving a
    // ghost cost once every node is gone.
    this.pricePerHour = Math.round((this.pricePerHour + sign * pricePerHour) * 1e6) / 1e6;
    this.capacity += sign * gpus;
  }

  /** GPUs were taken (positive) or given back (negative). */
  allocate(now: number, gpus: number): void {
    this.advance(now);
    this.allocated += gpus;
  }

  sample(now: number, nodes: number): void {
    this.advance(now);
    this.samples.push({
      t: now,
      cost: this.cost,
      costPerHour: this.pricePerHour,
      allocatedGpus: this.allocated,
      capacityGpus: this.capacity,
      nodes,
    });
  }

  /** Time-weighted allocated / capacity GPUs so far. */
  meanAllocation(): number {
    return this.capTime > 0 ? this.allocTime / this.capTime : 0;
  }
}
