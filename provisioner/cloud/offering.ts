import type { Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { CloudProvider, Offering } from "./types.ts";

/** A reading of what the cloud offers, stamped with when it began. */
export interface OfferingSnapshot extends Offering {
  /**
   * When the reading began (ms since the epoch). Instances launched before it are in its quota
   * figures; instances launched since may not be.
   */
  readAt: number;
}

/** What the Workspace controller asks before planning. */
export interface OfferingSource {
  /**
   * The last good reading, or undefined when there has been none (plan with the whole catalogue
   * and no quota, as without a cloud). Never waits on the cloud, except briefly for the very
   * first reading.
   */
  current(signal?: AbortSignal): Promise<OfferingSnapshot | undefined>;
}

export interface OfferingCacheOptions {
  cloud: Pick<CloudProvider, "name" | "offering">;
  clock: Clock;
  log?: Logger;
  /** A good reading is taken again after this long (default 5 min). */
  ttlMs?: number;
  /** After a failed reading the next attempt waits this long (default 1 min). */
  retryMs?: number;
  /** An early reading after a failed launch comes at least this long after the last attempt began (default 10 s). */
  minIntervalMs?: number;
  /** How long a caller waits for the first reading of all before going on without it (default 5 s). */
  firstReadingWaitMs?: number;
}

/**
 * The cloud's offering, read at most every ttlMs and early after a launch failed for quota or
 * capacity. One reading at a time: callers that arrive while it runs share it. Callers get the
 * last good reading at once and a stale one starts a new reading in the background, so a slow or
 * failing cloud API never holds up a reconcile; a failure keeps the last good reading and is
 * logged once, until a reading succeeds again.
 */
export class OfferingCache implements OfferingSource {
  private readonly cloud: OfferingCacheOptions["cloud"];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly minIntervalMs: number;
  private readonly firstReadingWaitMs: number;
  private readonly stop = new AbortController();
  private good: OfferingSnapshot | undefined;
  private inflight: Promise<void> | undefined;
  private lastAttemptAt: number | undefined;
  private lastAttemptFailed = false;
  private invalidatedAt: number | undefined;
  private finishedAttempts = 0;
  /** A failure has been logged and no reading has succeeded since. */
  private failing = false;

  constructor(o: OfferingCacheOptions) {
    this.cloud = o.cloud;
    this.clock = o.clock;
    this.log = (o.log ?? silentLogger).with({ cloud: o.cloud.name });
    this.ttlMs = o.ttlMs ?? 5 * 60_000;
    this.retryMs = o.retryMs ?? 60_000;
    this.minIntervalMs = o.minIntervalMs ?? 10_000;
    this.firstReadingWaitMs = o.firstReadingWaitMs ?? 5_000;
  }

  async current(signal?: AbortSignal): Promise<OfferingSnapshot | undefined> {
    this.refreshIfDue();
    if (this.good === undefined && this.finishedAttempts === 0 && this.inflight) {
      await this.within(this.inflight, this.firstReadingWaitMs, signal);
    }
    return this.good;
  }

  /**
   * A launch failed for quota or capacity, so the reading may be out of date: take a new one now,
   * or as soon as minIntervalMs has passed since the last one began.
   */
  invalidate(): void {
    this.invalidatedAt = this.clock.now();
    this.refreshIfDue();
  }

  /** Starts a reading unless one is running; resolves once that reading has settled. */
  refresh(): Promise<void> {
    if (this.stop.signal.aborted) return Promise.resolve();
    if (this.inflight) return this.inflight;
    const startedAt = this.clock.now();
    this.lastAttemptAt = startedAt;
    const reading = this.read(startedAt).finally(() => {
      this.finishedAttempts++;
      this.inflight = undefined;
    });
    this.inflight = reading;
    return reading;
  }

  /** Resolves once the reading in flight, if any, has settled (tests step a FakeClock, then await this). */
  async settled(): Promise<void> {
    while (this.inflight) await this.inflight;
  }

  /** As a manager runnable: the first reading at once, and the reading in flight cancelled on stop. */
  async start(signal: AbortSignal): Promise<void> {
    void this.refresh();
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
    this.close();
    await this.settled();
  }

  /** Cancels the reading in flight and starts no other; current() keeps answering from memory. */
  close(): void {
    this.stop.abort(new Error("the offering cache was closed"));
  }

  private refreshIfDue(): void {
    if (this.inflight || this.stop.signal.aborted) return;
    if (this.lastAttemptAt === undefined) {
      void this.refresh();
      return;
    }
    const since = this.clock.now() - this.lastAttemptAt;
    const invalidated = this.invalidatedAt !== undefined && this.invalidatedAt >= this.lastAttemptAt;
    const wait = this.lastAttemptFailed ? this.retryMs : invalidated ? this.minIntervalMs : this.ttlMs;
    if (since >= wait) void this.refresh();
  }

  private async read(startedAt: number): Promise<void> {
    try {
      const offering = await this.cloud.offering(this.stop.signal);
      this.good = { ...offering, readAt: startedAt };
      this.lastAttemptFailed = false;
      const fields = { sizes: offering.instanceTypes.length, quota: offering.quota };
      if (this.failing) this.log.info("reading what the cloud offers works again", fields);
      else this.log.debug("read what the cloud offers", fields);
      this.failing = false;
    } catch (e) {
      this.lastAttemptFailed = true;
      if (this.stop.signal.aborted || this.failing) return;
      this.failing = true;
      const fallback = this.good
        ? `the reading from ${Math.round((this.clock.now() - this.good.readAt) / 1000)} s ago`
        : "the whole catalogue and no quota";
      this.log.warn(
        `could not read which sizes and quota the cloud offers; planning with ${fallback} until a reading succeeds`,
        { error: errorMessage(e) },
      );
    }
  }

  /** Waits for `work` at most `ms`, or until the signal aborts; never rejects. */
  private async within(work: Promise<void>, ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    let cancel = () => {};
    let onAbort = () => {};
    const timeout = new Promise<void>((resolve) => {
      cancel = this.clock.schedule(ms, resolve);
      onAbort = () => resolve();
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([work, timeout]);
    } finally {
      cancel();
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
