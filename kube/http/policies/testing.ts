import type { IncomingHttpHeaders } from "node:http";
import type { KubeRequest, KubeResponse } from "../pipeline.ts";

/** A request as the client builds it, for policy specs. */
export function testRequest(overrides: Partial<KubeRequest> = {}): KubeRequest {
  return {
    method: "GET",
    url: new URL("https://127.0.0.1:6443/api/v1/namespaces/default/pods"),
    headers: {},
    stream: false,
    ...overrides,
  };
}

export function testResponse(status: number, headers: IncomingHttpHeaders = {}, body = "{}"): KubeResponse {
  return { status, headers, body };
}

/** Lets promise continuations run after a FakeClock step. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A `next` that never answers until its signal aborts, then rejects with the reason. */
export function hangingNext(seen: KubeRequest[] = []): (r: KubeRequest) => Promise<KubeResponse> {
  return (r) => {
    seen.push(r);
    return new Promise((_, reject) => {
      r.signal?.addEventListener("abort", () => reject(r.signal!.reason), { once: true });
    });
  };
}
