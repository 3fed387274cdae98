import type { IncomingHttpHeaders, IncomingMessage } from "node:http";

/**
 * One call to kube-apiserver as the client's policies see it. Policies may replace the signal
 * (to add their own deadline) and nothing else.
 */
export interface KubeRequest {
  /** GET, POST, PUT, PATCH or DELETE; watches are GETs with `stream` set. */
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** A watch: the response body is a stream the caller reads; timeouts end when the headers arrive. */
  stream: boolean;
  signal?: AbortSignal;
  /** This call's timeout, overriding the client's default; 0 means none. */
  timeoutMs?: number;
}

export interface KubeResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The whole body: of every ordinary response, and of a stream request that failed (status >= 300). */
  body: string;
  /** The open body of a successful stream request; the caller reads it to its end. */
  stream?: IncomingMessage;
}

export type SendRequest = (request: KubeRequest) => Promise<KubeResponse>;

/**
 * One behaviour of the client (a timeout, retries, a rate limit...), after core-rest-pipeline's
 * PipelinePolicy: it may change the request, call `next` any number of times, or answer itself.
 */
export interface KubePolicy {
  readonly name: string;
  sendRequest(request: KubeRequest, next: SendRequest): Promise<KubeResponse>;
}

/** Read-only verbs: everything else changes the cluster. */
export function isMutating(method: string): boolean {
  return !["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase());
}

/**
 * Chains the policies in order, the first outermost, down to the transport. Two policies of one
 * name are a wiring mistake and throw.
 */
export function pipeline(policies: readonly KubePolicy[], transport: SendRequest): SendRequest {
  const seen = new Set<string>();
  for (const p of policies) {
    if (seen.has(p.name)) throw new Error(`the client pipeline has two policies named ${p.name}`);
    seen.add(p.name);
  }
  return policies.reduceRight<SendRequest>(
    (next, policy) => (request) => policy.sendRequest(request, next),
    transport,
  );
}
