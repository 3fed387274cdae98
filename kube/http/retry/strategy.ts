import type { KubeRequest, KubeResponse } from "../pipeline.ts";

/** What one attempt came to: a response, or an error before any response. */
export interface AttemptOutcome {
  request: KubeRequest;
  /** 1 for the first attempt. */
  attempt: number;
  response?: KubeResponse;
  error?: unknown;
}

/**
 * Decides whether an attempt is worth repeating, separate from the retry loop (as in
 * core-rest-pipeline's retryStrategies): a delay in ms, or undefined when this strategy has
 * nothing to say about the outcome.
 */
export interface RetryStrategy {
  readonly name: string;
  retry(outcome: AttemptOutcome): { delayMs: number } | undefined;
}
