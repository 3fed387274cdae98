import type { RetryStrategy } from "./strategy.ts";

const resetCodes = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED"]);

/**
 * A read whose connection broke before an answer (a kept-alive socket the server had closed, an
 * API server restarting) is tried again after a second, as client-go does for GETs
 * (rest/request.go's retryable errors). Writes are not: the server may have acted on them.
 */
export function connectionResetRetryStrategy(delayMs = 1_000): RetryStrategy {
  return {
    name: "connection-reset",
    retry({ request, error }) {
      if (!error || request.method !== "GET" || request.stream) return undefined;
      const code = (error as { code?: unknown }).code;
      const message = error instanceof Error ? error.message : "";
      if ((typeof code === "string" && resetCodes.has(code)) || /socket hang up/.test(message))
        return { delayMs };
      return undefined;
    },
  };
}
