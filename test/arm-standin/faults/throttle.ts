import { armError } from "../http.ts";
import type { Fault } from "./injector.ts";

/**
 * ARM's throttling answer: 429 TooManyRequests with Retry-After in seconds and the remaining
 * read budget at zero.
 */
export function throttle(options: { times: number; retryAfterSeconds?: number; operation?: string }): Fault {
  const retryAfter = options.retryAfterSeconds ?? 1;
  return {
    ...(options.operation ? { operation: options.operation } : {}),
    times: options.times,
    respond: () =>
      armError(
        429,
        "TooManyRequests",
        `The request is being throttled as the limit has been reached for operation type - Read. Retry after ${retryAfter} seconds.`,
        { "retry-after": String(retryAfter), "x-ms-ratelimit-remaining-subscription-reads": "0" },
      ),
  };
}
