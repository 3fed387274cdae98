import type { Clock } from "../../lib/clock.ts";

/**
 * A token bucket like client-go's flowcontrol rate limiter (golang.org/x/time/rate underneath):
 * `burst` tokens, refilled at `qps` per second. Each caller reserves the next token, even one
 * that refills later, so waiters are served in arrival order and the wait is known at once.
 */
export class TokenBucket {
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;

  constructor(o: { qps: number; burst: number; clock: Clock }) {
    if (!(o.qps > 0) || !(o.burst >= 1))
      throw new Error(`a rate limit needs qps > 0 and burst >= 1, got qps ${o.qps}, burst ${o.burst}`);
    this.qps = o.qps;
    this.burst = Math.floor(o.burst);
    this.clock = o.clock;
    this.tokens = this.burst;
    this.last = o.clock.now();
  }

  /**
   * Resolves with the ms waited once a token is ours; an abort while waiting rejects with the
   * signal's reason and gives the token back.
   */
  async take(signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    this.refill();
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    const waitMs = (-this.tokens / this.qps) * 1000;
    try {
      await this.clock.sleep(waitMs, signal);
    } catch (e) {
      this.tokens += 1;
      throw e;
    }
    return waitMs;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }
}
