import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { listenError } from "../../lib/errors.ts";

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Limits of the metrics and health servers, which read nothing from a request but its line and
 * headers: headers of at most 8 KiB (Node's default is 16), which a bearer token fits, and a
 * client that sends them slower than 10 s, or a request not done in 30 s, is cut off (Node's
 * defaults are 60 s and 300 s: time enough to hold many sockets open).
 */
export const serverLimits = { maxHeaderBytes: 8 * 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

/** A serving certificate and its key, in PEM. */
export interface ServingTls {
  cert: string;
  key: string;
}

/**
 * Starts an HTTP server (HTTPS with `tls`) and resolves once it listens (port 0 picks a free
 * one); `name` says which server a busy address belongs to. Requests that carry a body are
 * refused (bodiless).
 */
export function listen(
  handler: http.RequestListener,
  port: number,
  host: string,
  name = "HTTP server",
  tls?: ServingTls,
): Promise<ListeningServer> {
  const options = { maxHeaderSize: serverLimits.maxHeaderBytes };
  const server = tls
    ? https.createServer(
        { ...options, cert: tls.cert, key: tls.key, minVersion: "TLSv1.2" },
        bodiless(handler),
      )
    : http.createServer(options, bodiless(handler));
  server.keepAliveTimeout = 5_000;
  server.headersTimeout = serverLimits.headersTimeoutMs;
  server.requestTimeout = serverLimits.requestTimeoutMs;
  return new Promise((resolve, reject) => {
    const failed = (e: Error) => reject(listenError(e, name, `${host}:${port}`));
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/**
 * Passes on only GET and HEAD requests without a body: a body is never read here, so one that
 * declares it (Content-Length above 0, or chunked) gets 413 and the connection is closed rather
 * than left holding unread bytes; other methods get 405.
 */
export function bodiless(handler: http.RequestListener): http.RequestListener {
  return (req, res) => {
    const length = Number(req.headers["content-length"] ?? 0);
    if (req.headers["transfer-encoding"] !== undefined || !(length === 0)) {
      res
        .writeHead(413, { "content-type": "text/plain", connection: "close" })
        .end("this server takes no request body\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res
        .writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" })
        .end(`${req.method} is not served here; use GET\n`);
      return;
    }
    handler(req, res);
  };
}

/** GET /metrics in the Prometheus text format. */
export function metricsHandler(registry: Registry): http.RequestListener {
  return (req, res) => {
    if (req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404).end("not found\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(`${String(e)}\n`),
    );
  };
}

export type HealthCheck = () => string | undefined;

/**
 * /healthz: the process is alive and its event loop answers. /readyz: every readiness check
 * passes; each failing check is listed, as kube-apiserver's /readyz?verbose does.
 */
export function healthHandler(readiness: Map<string, HealthCheck>): http.RequestListener {
  return (req, res) => {
    const path = req.url?.split("?")[0];
    if (path === "/healthz" || path === "/livez") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (path === "/readyz") {
      const failures = [...readiness].flatMap(([name, check]) => {
        const problem = check();
        return problem ? [`[-]${name} failed: ${problem}`] : [];
      });
      if (failures.length === 0) res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      else
        res
          .writeHead(503, { "content-type": "text/plain" })
          .end(`${failures.join("\n")}\nreadyz check failed\n`);
      return;
    }
    res.writeHead(404).end("not found\n");
  };
}
