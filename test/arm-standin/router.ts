import type { Handler, MatchedRoute } from "./http.ts";

interface Route {
  method: string;
  segments: string[];
  operation: string;
  handler: Handler;
  apiVersions?: readonly string[];
}

/** Method + path-template routing. ARM paths are case-insensitive, so literals match any case. */
export class Router {
  private readonly routes: Route[] = [];

  /** `template` like /subscriptions/{subscriptionId}/providers/Microsoft.Compute/skus. */
  add(
    method: string,
    template: string,
    operation: string,
    handler: Handler,
    apiVersions?: readonly string[],
  ): this {
    if (this.routes.some((r) => r.operation === operation))
      throw new Error(`duplicate operation ${operation}`);
    this.routes.push({
      method: method.toUpperCase(),
      segments: split(template),
      operation,
      handler,
      apiVersions,
    });
    return this;
  }

  match(method: string, path: string): (MatchedRoute & { handler: Handler }) | undefined {
    const parts = split(path);
    for (const route of this.routes) {
      if (route.method !== method.toUpperCase() || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = route.segments.every((seg, i) => {
        const part = parts[i];
        if (seg.startsWith("{") && seg.endsWith("}")) {
          params[seg.slice(1, -1)] = part;
          return true;
        }
        return seg.toLowerCase() === part.toLowerCase();
      });
      if (ok) {
        return {
          operation: route.operation,
          params,
          handler: route.handler,
          ...(route.apiVersions ? { apiVersions: route.apiVersions } : {}),
        };
      }
    }
    return undefined;
  }
}

function split(path: string): string[] {
  return path.split("/").filter((s) => s.length > 0);
}
