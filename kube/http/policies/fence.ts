import { isMutating, type KubePolicy, type KubeRequest } from "../pipeline.ts";

export const fencePolicyName = "fence";

/** Says whether this process may still change the cluster; throws when it may not. */
export interface WriteFence {
  check(request: Pick<KubeRequest, "method" | "url">): void;
}

/**
 * Refuses every write the fence forbids, checked just before each attempt goes out (after the
 * rate limiter's and the retries' waits), so a process that was frozen or cut off past its
 * lease cannot send the write it had queued. Reads pass.
 */
export function fencePolicy(fence: WriteFence): KubePolicy {
  return {
    name: fencePolicyName,
    async sendRequest(request, next) {
      if (isMutating(request.method)) fence.check(request);
      return next(request);
    },
  };
}
