import type { Clock } from "../../../lib/clock.ts";
import type { KubePolicy } from "../pipeline.ts";

export const observePolicyName = "observe";

/** One attempt as client-go's rest_client metrics see it. */
export interface AttemptInfo {
  /** The HTTP method (client-go's verb label). */
  method: string;
  /** host:port of the API server. */
  host: string;
  path: string;
  /** The HTTP status, or "<error>" when no response came (client-go's convention). */
  code: string;
  /** Until the response headers for a watch, until the whole body otherwise. */
  durationMs: number;
}

/** Reports every attempt that went out, whatever came of it. */
export function observePolicy(clock: Clock, observe: (info: AttemptInfo) => void): KubePolicy {
  return {
    name: observePolicyName,
    async sendRequest(request, next) {
      const started = clock.now();
      const report = (code: string) =>
        observe({
          method: request.method,
          host: request.url.host,
          path: request.url.pathname,
          code,
          durationMs: clock.now() - started,
        });
      try {
        const response = await next(request);
        report(String(response.status));
        return response;
      } catch (e) {
        report("<error>");
        throw e;
      }
    },
  };
}
