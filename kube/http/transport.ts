import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import type { SendRequest } from "./pipeline.ts";

/**
 * The innermost step: one HTTP exchange over the shared keep-alive agent, with the kubeconfig's
 * credentials and TLS (client-node's applyToHTTPSOptions, so exec and token-file users work). It
 * reads ordinary bodies whole and hands a successful watch its open stream. An abort ends the
 * exchange at once and rejects with the signal's reason.
 */
export function nodeTransport(kc: KubeConfig, agent: http.Agent): SendRequest {
  return async (request) => {
    const headers: Record<string, string> = { ...request.headers };
    // Node frames a DELETE's body only when told its length: without it the body went out
    // unframed, the API server read a DELETE without options (no preconditions, no propagation
    // policy) and the bytes after it as a broken next request.
    if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(request.body));
    const opts: https.RequestOptions = { method: request.method, agent, headers };
    await kc.applyToHTTPSOptions(opts);
    const signal = request.signal;
    signal?.throwIfAborted();
    const transport = request.url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const fail = (e: unknown) => reject(signal?.aborted ? signal.reason : e);
      const req = transport.request(request.url, { ...opts, ...(signal ? { signal } : {}) }, (res) => {
        const status = res.statusCode ?? 0;
        if (request.stream && status < 300) {
          resolve({ status, headers: res.headers, body: "", stream: res });
          return;
        }
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status, headers: res.headers, body }));
        res.on("error", fail);
        // A response cut off before its end (the request aborted or the connection dropped).
        res.on("close", () => {
          if (!res.complete) fail(new Error(`${request.method} ${request.url.pathname}: response cut off`));
        });
      });
      req.on("error", fail);
      req.end(request.body);
    });
  };
}
