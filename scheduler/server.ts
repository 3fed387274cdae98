import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { errorMessage, listenError } from "../lib/errors.ts";
import { silentLogger, type Logger } from "../lib/log.ts";
import type { Binder } from "./binder.ts";
import type { ClusterView } from "./cluster-view.ts";
import { defaultExtenderPort } from "./contract.ts";
import { ExtenderRequestError, isExtenderRequestError } from "./errors.ts";
import { Extender } from "./extender.ts";
import { extenderMetrics, type ExtenderVerb } from "./metrics.ts";
import { encodeFilterResult, encodeHostPriorityList } from "./wire.ts";

export interface ExtenderServerOptions {
  view: ClusterView;
  /** Metrics go here, never on prom-client's global registry. */
  registry: Registry;
  /** When given, the server also answers POST /bind and counts the pods it binds at once. */
  binder?: Binder;
  log?: Logger;
  /**
   * Largest request body accepted (default 64 MiB). Without the node cache kube-scheduler sends
   * every candidate Node in full, 2 to 20 KiB each depending on its image list, so the default
   * covers a few thousand candidates; kube-scheduler sends at most 10% of a 5,000-node cluster.
   */
  maxBodyBytes?: number;
}

const verbs = new Set<string>(["filter", "prioritize", "bind"]);

/**
 * The request handler: POST .../filter, .../prioritize and .../bind (the verb is the last path
 * segment, so kube-scheduler's urlPrefix may carry a path), and GET /healthz. Bad input gets an
 * HTTP 4xx with a one-line message; nothing a client sends can throw out of it.
 */
export function extenderHandler(options: ExtenderServerOptions): http.RequestListener {
  const extender = new Extender(options);
  const metrics = extenderMetrics(options.registry);
  const log = options.log ?? silentLogger;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;

  return (req, res) => {
    const pathname = (req.url ?? "/").split("?", 1)[0]!;
    const last = pathname.slice(pathname.lastIndexOf("/") + 1);
    if (req.method === "GET" && (pathname === "/healthz" || pathname === "/readyz")) {
      const ready = pathname === "/healthz" || options.view.synced();
      send(res, ready ? 200 : 503, "text/plain", ready ? "ok\n" : "cluster view not synced\n");
      return;
    }
    if (!verbs.has(last) || (last === "bind" && !extender.binds)) {
      send(res, 404, "text/plain", `no extender verb at ${pathname}; use filter, prioritize or bind\n`);
      return;
    }
    const verb = last as ExtenderVerb;
    const stopTimer = metrics.requestDuration.startTimer({ verb });
    const finish = (status: number, type: string, body: string) => {
      send(res, status, type, body);
      stopTimer();
      metrics.requests.inc({ verb, code: String(status) });
    };
    const fail = (e: unknown) => {
      if (isExtenderRequestError(e)) {
        log.info("refused an extender request", { verb, status: e.statusCode, error: e.message });
        finish(e.statusCode, "text/plain", `${e.message}\n`);
      } else {
        log.error("extender request failed", { verb, error: errorMessage(e) });
        finish(500, "text/plain", `internal error: ${errorMessage(e)}\n`);
      }
    };
    if (req.method !== "POST") {
      fail(new ExtenderRequestError("MethodNotAllowed", `${verb} takes POST, not ${req.method}`));
      return;
    }
    // A body declared too large is refused before a byte of it is read.
    if (Number(req.headers["content-length"] ?? 0) > maxBodyBytes) {
      fail(new ExtenderRequestError("TooLarge", `the request body exceeds ${maxBodyBytes} bytes`));
      return;
    }
    readBody(req, maxBodyBytes)
      .then((text) => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (e) {
          throw new ExtenderRequestError(
            "MalformedJson",
            `the request body is not valid JSON: ${errorMessage(e)}`,
          );
        }
        if (verb === "filter")
          return finish(200, "application/json", encodeFilterResult(extender.filter(body)));
        if (verb === "prioritize")
          return finish(200, "application/json", encodeHostPriorityList(extender.prioritize(body)));
        return extender.bind(body).then((r) => finish(200, "application/json", JSON.stringify(r)));
      })
      .catch(fail);
  };
}

function send(res: http.ServerResponse, status: number, type: string, body: string): void {
  if (res.headersSent) return;
  res.writeHead(status, {
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    // The rest of an oversized body is never read, so the connection cannot carry another request.
    ...(status === 413 ? { connection: "close" } : {}),
  });
  res.end(body);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(new ExtenderRequestError("TooLarge", `the request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!refused) resolve(Buffer.concat(chunks, size).toString("utf8"));
    });
    req.on("error", reject);
  });
}

export interface RunningExtender {
  /** http://host:port */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (port 8888 by default; 0 picks a free one). */
export async function startExtenderServer(
  options: ExtenderServerOptions & { host: string; port?: number },
): Promise<RunningExtender> {
  const server = http.createServer(extenderHandler(options));
  // kube-scheduler's Go client keeps idle connections for 90 s and does not retry a POST that
  // meets a connection the server has just closed, so we must not close idle ones sooner.
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 125_000;
  const port = options.port ?? defaultExtenderPort;
  await new Promise<void>((resolve, reject) => {
    const failed = (e: Error) => reject(listenError(e, "scheduler extender", `${options.host}:${port}`));
    server.once("error", failed);
    server.listen(port, options.host, () => {
      server.off("error", failed);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
