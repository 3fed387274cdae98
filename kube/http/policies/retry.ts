import type { Clock } from "../../../lib/clock.ts";
import type { KubePolicy, KubeResponse } from "../pipeline.ts";
import type { RetryStrategy } from "../retry/strategy.ts";

export const retryPolicyName = "retry";

export interface RetryPolicyOptions {
  strategies: readonly RetryStrategy[];
  clock: Clock;
  /** Attempts after the first (default 10, client-go's). */
  maxRetries?: number;
  /** Told of each repeated attempt, with the status (or "<error>") that caused it. */
  onRetry?: (info: { method: string; code: string }) => void;
}

/**
 * Repeats an attempt while a strategy asks for it, waiting the delay it names on the injected
 * clock; the caller's signal (and so the call's timeout) ends the wait. When the retries run
 * out, the last response or error is what the caller gets.
 */
export function retryPolicy(o: RetryPolicyOptions): KubePolicy {
  const maxRetries = o.maxRetries ?? 10;
  return {
    name: retryPolicyName,
    async sendRequest(request, next) {
      for (let attempt = 1; ; attempt++) {
        let response: KubeResponse | undefined;
        let error: unknown;
        try {
          response = await next(request);
        } catch (e) {
          if (request.signal?.aborted) throw e;
          error = e;
        }
        const decision =
          attempt > maxRetries
            ? undefined
            : o.strategies
                .map((s) => s.retry({ request, attempt, ...(response ? { response } : { error }) }))
                .find((d) => d !== undefined);
        if (!decision) {
          if (response) return response;
          throw error;
        }
        o.onRetry?.({ method: request.method, code: response ? String(response.status) : "<error>" });
        await o.clock.sleep(decision.delayMs, request.signal);
      }
    },
  };
}
