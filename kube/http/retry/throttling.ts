import type { Clock } from "../../../lib/clock.ts";
import { retryAfterMs } from "./retry-after.ts";
import type { RetryStrategy } from "./strategy.ts";

export interface ThrottlingRetryOptions {
  clock: Clock;
  /** The wait after a 429 that names none (default 1 s, what kube-apiserver itself sends). */
  defaultDelayMs?: number;
  /** Longer asks are cut to this (default 60 s); the call's timeout bounds the whole anyway. */
  maxDelayMs?: number;
}

/**
 * kube-apiserver's "come back later": 429 from API Priority and Fairness or
 * --max-requests-inflight, and 5xx that carry a Retry-After (a storage timeout, a server
 * starting up). As client-go does (rest/request.go checkWait), the server has not acted on such a
 * request, so any verb is repeated, after the delay the server named.
 */
export function throttlingRetryStrategy(o: ThrottlingRetryOptions): RetryStrategy {
  const defaultDelayMs = o.defaultDelayMs ?? 1_000;
  const maxDelayMs = o.maxDelayMs ?? 60_000;
  return {
    name: "throttling",
    retry({ response }) {
      if (!response) return undefined;
      const asked = retryAfterMs(response.headers, o.clock.now());
      if (response.status === 429) return { delayMs: Math.min(maxDelayMs, asked ?? defaultDelayMs) };
      if (response.status >= 500 && asked !== undefined) return { delayMs: Math.min(maxDelayMs, asked) };
      return undefined;
    },
  };
}
