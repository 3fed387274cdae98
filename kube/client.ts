import https from "node:https";
import http from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ObjectMeta } from "../crds/core/types.ts";
import { systemClock, type Clock } from "../lib/clock.ts";
import { errorFromResponse } from "./errors.ts";
import { pipeline, type KubePolicy, type KubeRequest, type SendRequest } from "./http/pipeline.ts";
import type { AttemptInfo } from "./http/policies/observe.ts";
import { observePolicy } from "./http/policies/observe.ts";
import { rateLimitPolicy } from "./http/policies/rate-limit.ts";
import { retryPolicy } from "./http/policies/retry.ts";
import { timeoutPolicy } from "./http/policies/timeout.ts";
import { connectionResetRetryStrategy } from "./http/retry/connection-reset.ts";
import { throttlingRetryStrategy } from "./http/retry/throttling.ts";
import { TokenBucket } from "./http/token-bucket.ts";
import { nodeTransport } from "./http/transport.ts";
import { collectionPath, objectPath, type Resource } from "./resources.ts";

/** The metadata every object has (crds/ defines it once); kind-specific fields are typed by the caller. */
export type { ObjectMeta };

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ObjectList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
}

type Query = Record<string, string | number | boolean | undefined>;

/** What every call may carry: an abort signal, and a timeout other than the client's default. */
export interface CallOptions {
  signal?: AbortSignal;
  /** ms; 0 means none. Default: the client's timeoutMs. */
  timeoutMs?: number;
}

export interface RequestOptions extends CallOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
}

/** Observes what the client sends, e.g. for client-go's rest_client metrics (kube/http/metrics.ts). */
export interface ClientObserver {
  /** Each attempt that went out, with its status or "<error>". */
  attempt?(info: AttemptInfo): void;
  /** Each attempt repeated because of the previous one's status (or "<error>"). */
  retried?(info: { method: string; host: string; code: string }): void;
  /** The wait for the client-side rate limiter, before each attempt. */
  rateLimited?(info: { method: string; host: string; waitMs: number }): void;
}

export interface KubeClientOptions {
  /** Connections kept per API server (default 32). */
  maxSockets?: number;
  /**
   * Timeout of every call that names none, retries included (default 30 s; 0 for none). A watch
   * is bounded only until its response headers arrive.
   */
  timeoutMs?: number;
  /**
   * Client-side rate limit shared by every call, as client-go's QPS and Burst (default 200 and
   * 300, Karpenter's --kube-client-qps/-burst: a cap on a runaway loop that a manager busy with a
   * hundred new workspaces stays under; kube-scheduler's 50/100 held bench:controller's 100
   * workspaces to 50 requests a second and 60% longer). false leaves it all to the API server's
   * Priority and Fairness.
   */
  rateLimit?: { qps: number; burst: number } | false;
  /** Repeats of a throttled call (default 10, client-go's). */
  maxRetries?: number;
  userAgent?: string;
  clock?: Clock;
}

export const defaultClientOptions = {
  maxSockets: 32,
  timeoutMs: 30_000,
  rateLimit: { qps: 200, burst: 300 },
  maxRetries: 10,
  userAgent: "kaito-ts",
} as const;

export type PatchType = "merge" | "json" | "apply" | "strategic";
const patchContentType: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  apply: "application/apply-patch+yaml",
  strategic: "application/strategic-merge-patch+json",
};

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

interface ClientCore {
  kc: KubeConfig;
  server: URL;
  agent: http.Agent;
  clock: Clock;
  observers: ClientObserver[];
  bucket: TokenBucket | undefined;
  timeoutMs: number;
  maxRetries: number;
  userAgent: string;
}

/**
 * A small typed client over kube-apiserver's REST API. Each call runs through a pipeline of
 * policies (kube/http/policies/): its timeout, retries of throttled attempts after Retry-After,
 * the client-side rate limit, any policies a derived client adds (the leader's write fence), the
 * observers behind client-go's rest_client metrics, then the transport. Patches set their content
 * type explicitly; failures become KubeApiError (an answer) or KubeRequestError (no answer in time,
 * or a write this process may no longer make).
 */
export class KubeClient {
  readonly server: URL;
  private readonly core: ClientCore;
  private readonly extra: readonly KubePolicy[];
  private readonly send: SendRequest;

  constructor(
    kc: KubeConfig,
    options: KubeClientOptions = {},
    derived?: { core: ClientCore; extra: KubePolicy[] },
  ) {
    if (derived) {
      this.core = derived.core;
      this.extra = derived.extra;
    } else {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error("the kubeconfig has no current cluster");
      const server = new URL(cluster.server);
      const maxSockets = options.maxSockets ?? defaultClientOptions.maxSockets;
      const clock = options.clock ?? systemClock;
      const rateLimit = options.rateLimit ?? defaultClientOptions.rateLimit;
      this.core = {
        kc,
        server,
        clock,
        agent:
          server.protocol === "https:"
            ? new https.Agent({ keepAlive: true, maxSockets })
            : new http.Agent({ keepAlive: true, maxSockets }),
        observers: [],
        bucket: rateLimit ? new TokenBucket({ ...rateLimit, clock }) : undefined,
        timeoutMs: options.timeoutMs ?? defaultClientOptions.timeoutMs,
        maxRetries: options.maxRetries ?? defaultClientOptions.maxRetries,
        userAgent: options.userAgent ?? defaultClientOptions.userAgent,
      };
      this.extra = [];
    }
    this.server = this.core.server;
    this.send = this.buildPipeline();
  }

  /**
   * A client on the same connections, rate limit and observers whose calls also pass `policies`
   * (after the rate limiter, just before each attempt goes out). close() on either closes both.
   */
  withPolicies(...policies: KubePolicy[]): KubeClient {
    return new KubeClient(this.core.kc, {}, { core: this.core, extra: [...this.extra, ...policies] });
  }

  observe(observer: ClientObserver): void {
    this.core.observers.push(observer);
  }

  close(): void {
    this.core.agent.destroy();
  }

  /** Sends one request; resolves with the parsed JSON body, rejects with KubeApiError or KubeRequestError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(this.toRequest(method, withQuery(path, options.query), options, false));
    if (res.status >= 300) throw errorFromResponse(method, path, res.status, res.body);
    return (res.body ? JSON.parse(res.body) : undefined) as T;
  }

  get<T extends KubeObject>(r: Resource, name: string, namespace?: string, o: CallOptions = {}): Promise<T> {
    return this.request<T>("GET", objectPath(r, name, namespace), o);
  }

  list<T extends KubeObject>(r: Resource, o: ListOptions & CallOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>("GET", collectionPath(r, o.namespace), {
      ...callOptions(o),
      query: {
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        limit: o.limit,
        continue: o.continue,
        resourceVersion: o.resourceVersion,
      },
    });
  }

  create<T extends KubeObject>(r: Resource, obj: T, o: CallOptions = {}): Promise<T> {
    return this.request<T>("POST", collectionPath(r, obj.metadata?.namespace), {
      ...callOptions(o),
      body: obj,
    });
  }

  /** Replaces the object; fails with Conflict when metadata.resourceVersion is stale. */
  update<T extends KubeObject>(r: Resource, obj: T, o: CallOptions = {}): Promise<T> {
    return this.request<T>("PUT", objectPath(r, obj.metadata!.name!, obj.metadata?.namespace), {
      ...callOptions(o),
      body: obj,
    });
  }

  updateStatus<T extends KubeObject>(r: Resource, obj: T, o: CallOptions = {}): Promise<T> {
    return this.request<T>("PUT", `${objectPath(r, obj.metadata!.name!, obj.metadata?.namespace)}/status`, {
      ...callOptions(o),
      body: obj,
    });
  }

  patch<T extends KubeObject>(
    r: Resource,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    o: { fieldManager?: string; force?: boolean; subresource?: "status" } & CallOptions = {},
  ): Promise<T> {
    const path = objectPath(r, name, namespace) + (o.subresource ? `/${o.subresource}` : "");
    return this.request<T>("PATCH", path, {
      ...callOptions(o),
      body: patch,
      contentType: patchContentType[type],
      query: { fieldManager: o.fieldManager, force: o.force },
    });
  }

  delete(
    r: Resource,
    name: string,
    namespace?: string,
    o: { propagationPolicy?: "Foreground" | "Background" | "Orphan"; uid?: string } & CallOptions = {},
  ): Promise<unknown> {
    const body = {
      kind: "DeleteOptions",
      apiVersion: "v1",
      ...(o.propagationPolicy ? { propagationPolicy: o.propagationPolicy } : {}),
      ...(o.uid ? { preconditions: { uid: o.uid } } : {}),
    };
    return this.request("DELETE", objectPath(r, name, namespace), { ...callOptions(o), body });
  }

  /**
   * Streams watch events until the server ends the watch, the signal aborts, or the connection
   * fails (rejects). `onChunk` fires on every byte received, bookmarks included, for a watchdog.
   * The client's timeout bounds only the wait for the response headers.
   */
  async watch<T>(
    r: Resource,
    o: WatchOptions,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    onChunk: () => void = () => {},
  ): Promise<void> {
    const path = collectionPath(r, o.namespace);
    const query = {
      watch: true,
      resourceVersion: o.resourceVersion,
      timeoutSeconds: o.timeoutSeconds,
      allowWatchBookmarks: o.allowWatchBookmarks,
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
    };
    const response = await this.send(this.toRequest("GET", withQuery(path, query), { signal }, true));
    if (!response.stream) throw errorFromResponse("WATCH", path, response.status, response.body);
    const res = response.stream;
    await new Promise<void>((resolve, reject) => {
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        onChunk();
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line) continue;
          try {
            onEvent(JSON.parse(line) as WatchEvent<T>);
          } catch (e) {
            res.destroy(e as Error);
            return;
          }
        }
      });
      res.on("end", resolve);
      res.on("close", resolve);
      res.on("error", reject);
    });
  }

  private toRequest(method: string, pathAndQuery: string, o: RequestOptions, stream: boolean): KubeRequest {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": this.core.userAgent };
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    if (body !== undefined) headers["content-type"] = o.contentType ?? "application/json";
    return {
      method,
      url: new URL(pathAndQuery, this.core.server),
      headers,
      stream,
      ...(body !== undefined ? { body } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    };
  }

  private buildPipeline(): SendRequest {
    const { clock, observers, bucket, server } = this.core;
    const host = server.host;
    const each = <K extends keyof ClientObserver>(
      k: K,
      info: Parameters<NonNullable<ClientObserver[K]>>[0],
    ) => {
      for (const o of observers) (o[k] as ((i: typeof info) => void) | undefined)?.(info);
    };
    const policies: KubePolicy[] = [
      timeoutPolicy({ defaultTimeoutMs: this.core.timeoutMs, clock }),
      retryPolicy({
        clock,
        maxRetries: this.core.maxRetries,
        strategies: [throttlingRetryStrategy({ clock }), connectionResetRetryStrategy()],
        onRetry: ({ method, code }) => each("retried", { method, host, code }),
      }),
      ...(bucket
        ? [rateLimitPolicy(bucket, ({ method, waitMs }) => each("rateLimited", { method, host, waitMs }))]
        : []),
      ...this.extra,
      observePolicy(clock, (info) => each("attempt", info)),
    ];
    return pipeline(policies, nodeTransport(this.core.kc, this.core.agent));
  }
}

function callOptions(o: CallOptions): CallOptions {
  return {
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  };
}
