import type { TokenBucket } from "../token-bucket.ts";
import type { KubePolicy } from "../pipeline.ts";

export const rateLimitPolicyName = "rate-limit";

/**
 * Client-side QPS and burst, as client-go's rest client applies them: every attempt, watches
 * and retries included, first takes a token. The bucket is shared by every client derived from
 * one KubeClient, so the process as a whole keeps to the limit.
 */
export function rateLimitPolicy(
  bucket: TokenBucket,
  onWait?: (info: { method: string; waitMs: number }) => void,
): KubePolicy {
  return {
    name: rateLimitPolicyName,
    async sendRequest(request, next) {
      const waitMs = await bucket.take(request.signal);
      onWait?.({ method: request.method, waitMs });
      return next(request);
    },
  };
}
