import https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SecureContextOptions } from "node:tls";
import { errorMessage, listenError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { WebhookOutcome } from "./metrics.ts";
import {
  isAdmissionReviewError,
  parseReview,
  reviewResponse,
  type AdmissionDecision,
  type AdmissionRequest,
} from "./admission.ts";

/**
 * One handler per path: the admission ones take a review's request and return a decision; a
 * raw handler (a future POST /convert taking a ConversionReview) gets the parsed body and returns
 * the body to answer with, so it can share this server and certificate.
 */
export type Route =
  | { kind: "admission"; handle(request: AdmissionRequest): AdmissionDecision }
  | { kind: "raw"; handle(body: unknown): unknown };

export interface WebhookServerOptions {
  host: string;
  port: number;
  /** PEM serving certificate and key. */
  cert: string;
  key: string;
  routes: Readonly<Record<string, Route>>;
  log: Logger;
  /**
   * Largest request body accepted. The API server sends the object and its old copy; etcd keeps
   * objects up to 1.5 MiB, so 8 MiB leaves room for both in JSON.
   */
  maxBodyBytes?: number;
  /** Told how each call ended; `path` is a served route or "other". */
  onResult?: (path: string, outcome: WebhookOutcome) => void;
}

export interface WebhookServer {
  readonly port: number;
  readonly url: string;
  /** Serves a new certificate to new connections (rotation; replicas reloading the Secret). */
  setCertificate(cert: string, key: string): void;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

/**
 * The admission webhook's HTTPS server (TLS 1.2+, AdmissionReview v1). A malformed review is a
 * 400 with a message, an unknown path a 404, a body over the limit a 413; a handler's failure is
 * a 500, which the API server treats by the configuration's failurePolicy. Handlers are pure and
 * synchronous, so answers come long before the API server's timeout (10 s at most).
 */
export function startWebhookServer(o: WebhookServerOptions): Promise<WebhookServer> {
  const maxBody = o.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const tls: SecureContextOptions = { cert: o.cert, key: o.key, minVersion: "TLSv1.2" };
  const server = https.createServer({ ...tls }, (req, res) => handle(req, res));
  // A client that stalls cannot hold a connection: the API server sends the whole review at once.
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? "/").split("?")[0]!;
    const route = o.routes[path];
    const counted = route ? path : "other";
    const reply = (status: number, body: unknown, outcome?: WebhookOutcome) => {
      if (res.headersSent) return;
      o.onResult?.(counted, outcome ?? (status >= 500 ? "error" : "bad_request"));
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (!route) return reply(404, { message: `no webhook at ${path}` });
    if (req.method !== "POST") return reply(405, { message: "webhooks take POST" });
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > maxBody) {
      req.resume();
      return reply(413, { message: `the body exceeds ${maxBody} bytes` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody && !aborted) {
        aborted = true;
        reply(413, { message: `the body exceeds ${maxBody} bytes` });
        req.destroy();
        return;
      }
      if (!aborted) chunks.push(chunk);
    });
    req.on("end", () => {
      if (aborted) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(400, { message: "the body is not JSON" });
      }
      try {
        if (route.kind === "raw") return reply(200, route.handle(body), "allowed");
        const request = parseReview(body);
        const decision = route.handle(request);
        o.log.debug("admission", {
          path,
          uid: request.uid,
          operation: request.operation,
          version: (request.requestKind ?? request.kind).version,
          allowed: decision.allowed,
        });
        reply(200, reviewResponse(request.uid, decision), decision.allowed ? "allowed" : "denied");
      } catch (e) {
        if (isAdmissionReviewError(e)) return reply(400, { message: e.message });
        o.log.error("admission handler failed", { path, error: errorMessage(e) });
        reply(500, { message: "the webhook failed to decide; see the manager's log" });
      }
    });
  }

  return new Promise((resolve, reject) => {
    const failed = (e: Error) => reject(listenError(e, "admission webhook", `${o.host}:${o.port}`));
    server.once("error", failed);
    server.listen(o.port, o.host, () => {
      server.off("error", failed);
      const port = (server.address() as AddressInfo).port;
      const host = o.host.includes(":") ? `[${o.host}]` : o.host;
      resolve({
        port,
        url: `https://${host}:${port}`,
        setCertificate(cert, key) {
          server.setSecureContext({ ...tls, cert, key });
        },
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
