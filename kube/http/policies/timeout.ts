import type { Clock } from "../../../lib/clock.ts";
import { KubeRequestError } from "../../errors.ts";
import type { KubePolicy } from "../pipeline.ts";

export const timeoutPolicyName = "timeout";

export interface TimeoutPolicyOptions {
  /** Applied to every call that sets no timeout of its own; 0 means none. */
  defaultTimeoutMs: number;
  clock: Clock;
}

/**
 * Bounds a whole call (every retry, every wait for the rate limiter) by its timeout, then aborts
 * it with a KubeRequestError of code Timeout. A watch is bounded only until its response headers
 * arrive: its stream lasts as long as the server's timeoutSeconds, and the informer's watchdog
 * judges a silent stream.
 */
export function timeoutPolicy(o: TimeoutPolicyOptions): KubePolicy {
  return {
    name: timeoutPolicyName,
    async sendRequest(request, next) {
      const ms = request.timeoutMs ?? o.defaultTimeoutMs;
      if (!(ms > 0)) return next(request);
      const deadline = new AbortController();
      const cancel = o.clock.schedule(ms, () =>
        deadline.abort(
          new KubeRequestError({
            code: "Timeout",
            method: request.method,
            path: request.url.pathname,
            message: `${request.method} ${request.url.pathname}: the API server did not answer within ${ms / 1000} s`,
          }),
        ),
      );
      const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
      try {
        return await next({ ...request, signal });
      } catch (e) {
        // Whatever the layers below made of the abort, the caller learns it was the deadline.
        if (deadline.signal.aborted && !request.signal?.aborted) throw deadline.signal.reason;
        throw e;
      } finally {
        cancel();
      }
    },
  };
}
