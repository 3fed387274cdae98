import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { listenError } from "../../lib/errors.ts";

export interface ListeningServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server and resolves once it listens (port 0 picks a free one); `name` says which
 * server a busy address belongs to.
 */
export function listen(
  handler: http.RequestListener,
  port: number,
  host: string,
  name = "HTTP server",
): Promise<ListeningServer> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 5_000;
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

/** GET /metrics in the Prometheus text format. */
export function metricsHandler(registry: Registry): http.RequestListener {
  return (req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
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
