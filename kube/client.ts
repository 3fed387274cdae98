import https from "node:https";
import http from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import type { ObjectMeta } from "../crds/core/types.ts";
import { errorFromResponse } from "./errors.ts";
import { atVersionOf, collectionPath, objectPath, type Resource } from "./resources.ts";

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

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** Observes every request, e.g. to count API calls per controller or time them. */
export type RequestObserver = (info: {
  method: string;
  path: string;
  statusCode: number;
  durationMs: number;
}) => void;

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

/**
 * A small typed client over kube-apiserver's REST API. Authentication and TLS come from the
 * KubeConfig (client-node's applyToHTTPSOptions, so exec and token-file users work); patches set
 * their content type explicitly; failures become KubeApiError.
 */
export class KubeClient {
  readonly server: URL;
  private readonly kc: KubeConfig;
  private readonly agent: http.Agent;
  private readonly observers: RequestObserver[] = [];

  constructor(kc: KubeConfig, options: { maxSockets?: number } = {}) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    this.kc = kc;
    this.server = new URL(cluster.server);
    const isHttps = this.server.protocol === "https:";
    this.agent = isHttps
      ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 32 })
      : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 32 });
  }

  observe(observer: RequestObserver): void {
    this.observers.push(observer);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Sends one request; resolves with the parsed JSON body, rejects with KubeApiError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, withQuery(path, options.query), options);
    const text = await readBody(res);
    if ((res.statusCode ?? 0) >= 300) throw errorFromResponse(method, path, res.statusCode ?? 0, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T extends KubeObject>(r: Resource, name: string, namespace?: string): Promise<T> {
    return this.request<T>("GET", objectPath(r, name, namespace));
  }

  list<T extends KubeObject>(r: Resource, o: ListOptions = {}): Promise<ObjectList<T>> {
    return this.request<ObjectList<T>>("GET", collectionPath(r, o.namespace), {
      query: {
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        limit: o.limit,
        continue: o.continue,
        resourceVersion: o.resourceVersion,
      },
    });
  }

  /** Creates the object at the version its apiVersion names (atVersionOf), as kubectl does. */
  create<T extends KubeObject>(r: Resource, obj: T): Promise<T> {
    const target = atVersionOf(r, obj.apiVersion);
    return this.request<T>("POST", collectionPath(target, obj.metadata?.namespace), { body: obj });
  }

  /** Replaces the object; fails with Conflict when metadata.resourceVersion is stale. */
  update<T extends KubeObject>(r: Resource, obj: T): Promise<T> {
    return this.request<T>("PUT", objectPath(r, obj.metadata!.name!, obj.metadata?.namespace), { body: obj });
  }

  updateStatus<T extends KubeObject>(r: Resource, obj: T): Promise<T> {
    return this.request<T>("PUT", `${objectPath(r, obj.metadata!.name!, obj.metadata?.namespace)}/status`, {
      body: obj,
    });
  }

  patch<T extends KubeObject>(
    r: Resource,
    name: string,
    namespace: string | undefined,
    patch: unknown,
    type: PatchType,
    o: { fieldManager?: string; force?: boolean; subresource?: "status" } = {},
  ): Promise<T> {
    const path = objectPath(r, name, namespace) + (o.subresource ? `/${o.subresource}` : "");
    return this.request<T>("PATCH", path, {
      body: patch,
      contentType: patchContentType[type],
      query: { fieldManager: o.fieldManager, force: o.force },
    });
  }

  delete(
    r: Resource,
    name: string,
    namespace?: string,
    o: { propagationPolicy?: "Foreground" | "Background" | "Orphan"; uid?: string } = {},
  ): Promise<unknown> {
    const body = {
      kind: "DeleteOptions",
      apiVersion: "v1",
      ...(o.propagationPolicy ? { propagationPolicy: o.propagationPolicy } : {}),
      ...(o.uid ? { preconditions: { uid: o.uid } } : {}),
    };
    return this.request("DELETE", objectPath(r, name, namespace), { body });
  }

  /**
   * Streams watch events until the server ends the watch, the signal aborts, or the connection
   * fails (rejects). `onChunk` fires on every byte received, bookmarks included, for a watchdog.
   */
  async watch<T>(
    r: Resource,
    o: WatchOptions,
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    onChunk: () => void = () => {},
  ): Promise<void> {
    const path = collectionPath(r, o.namespace);
    const res = await this.send(
      "GET",
      withQuery(path, {
        watch: true,
        resourceVersion: o.resourceVersion,
        timeoutSeconds: o.timeoutSeconds,
        allowWatchBookmarks: o.allowWatchBookmarks,
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
      }),
      { signal },
    );
    if ((res.statusCode ?? 0) >= 300)
      throw errorFromResponse("WATCH", path, res.statusCode ?? 0, await readBody(res));
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

  private async send(method: string, pathAndQuery: string, o: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(pathAndQuery, this.server);
    const opts: https.RequestOptions = {
      method,
      agent: this.agent,
      headers: { accept: "application/json", "user-agent": "kaito-ts" },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const body = o.body === undefined ? undefined : JSON.stringify(o.body);
    if (body !== undefined) {
      opts.headers = { ...opts.headers, "content-type": o.contentType ?? "application/json" };
    }
    const started = performance.now();
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { ...opts, signal: o.signal }, (res) => {
        for (const observe of this.observers) {
          observe({
            method,
            path: url.pathname,
            statusCode: res.statusCode ?? 0,
            durationMs: performance.now() - started,
          });
        }
        resolve(res);
      });
      req.on("error", reject);
      req.end(body);
    });
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (d: string) => (text += d));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}
