// The manager's metrics and health servers: request limits, and /metrics behind a caller check.
import http from "node:http";
import https from "node:https";
import { generateServingCertificates } from "../../lib/certs.ts";
import { Counter, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { withAuthentication, type ReviewFn } from "../auth/http.ts";
import { healthHandler, listen, metricsHandler, serverLimits, type ListeningServer } from "./servers.ts";

const open: ListeningServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function serve(handler: http.RequestListener): Promise<number> {
  const s = await listen(handler, 0, "127.0.0.1", "test server");
  open.push(s);
  return s.port;
}

/** One raw request: node's http client, so headers and bodies are exactly what the test says. */
function request(
  port: number,
  o: { method?: string; path?: string; headers?: Record<string, string>; body?: string; chunked?: boolean },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: o.method ?? "GET",
        path: o.path ?? "/metrics",
        headers: o.headers,
        agent: false,
      },
      (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    // Node's client frames a GET's body only when told: a Content-Length, or chunks.
    if (o.chunked) req.setHeader("transfer-encoding", "chunked");
    if (o.chunked) req.write(o.body ?? "x");
    req.end(o.chunked ? undefined : o.body);
  });
}

describe("the metrics and health servers", () => {
  it("serve GET, and refuse a request body (declared or chunked) with 413 and other methods with 405", async () => {
    const metrics = await serve(metricsHandler(new Registry()));
    const health = await serve(healthHandler(new Map()));
    expect((await request(metrics, {})).status).toBe(200);
    expect((await request(health, { path: "/healthz" })).status).toBe(200);
    for (const port of [metrics, health]) {
      const body = "x".repeat(10_000);
      const declared = await request(port, {
        path: "/healthz",
        body,
        headers: { "content-length": String(body.length) },
      });
      expect(declared.status).toBe(413);
      expect(declared.headers.connection).toBe("close");
      expect((await request(port, { path: "/healthz", body: "{}", chunked: true })).status).toBe(413);
      expect((await request(port, { method: "POST", path: "/metrics" })).status).toBe(405);
      expect((await request(port, { method: "DELETE", path: "/healthz" })).status).toBe(405);
    }
  });

  it("refuse headers above the limit with 431 (a bearer token fits)", async () => {
    const port = await serve(metricsHandler(new Registry()));
    const token = "t".repeat(2_000);
    expect((await request(port, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const huge = await request(port, {
      headers: { "x-filler": "f".repeat(serverLimits.maxHeaderBytes + 1) },
    });
    expect(huge.status).toBe(431);
  });
});

describe("withAuthentication on /metrics", () => {
  const seen: { token: string | undefined; path: string; verb: string }[] = [];
  const review: ReviewFn = async (token, { path, verb }) => {
    seen.push({ token, path, verb });
    if (token === "broken")
      return { allowed: false, code: "Unavailable", message: "the API server did not answer" };
    if (!token || token === "bad")
      return { allowed: false, code: "Unauthenticated", message: "a bearer token is required" };
    if (token === "reader") return { allowed: true, user: "prometheus" };
    return { allowed: false, code: "Forbidden", message: `someone may not ${verb} ${path}` };
  };

  it("answers 401 without a valid token, 403 without the rule, 500 when it cannot check, the metrics otherwise", async () => {
    const r = new Registry();
    new Counter({ name: "kaito_test_total", help: "h", registers: [r] });
    const port = await serve(withAuthentication(metricsHandler(r), review));
    const none = await request(port, {});
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(none.body).not.toMatch(/kaito_test_total/);
    expect((await request(port, { headers: { authorization: "Bearer bad" } })).status).toBe(401);
    const forbidden = await request(port, { headers: { authorization: "Bearer someone" } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toBe("someone may not get /metrics\n");
    expect((await request(port, { headers: { authorization: "Bearer broken" } })).status).toBe(500);
    const allowed = await request(port, {
      path: "/metrics?x=1",
      headers: { authorization: "Bearer reader" },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatch(/kaito_test_total 0/);
    // The question asked is the path without its query, and the method as RBAC's verb.
    expect(seen.at(-1)).toEqual({ token: "reader", path: "/metrics", verb: "get" });
  });
});

describe("the metrics server over TLS", () => {
  it("serves HTTPS with its certificate, TLS 1.2 at least, and nothing in clear", async () => {
    const { cert, key, caCert } = generateServingCertificates({
      dnsNames: ["localhost"],
      ipAddresses: ["127.0.0.1"],
      now: Date.now(),
      caName: "test metrics CA",
    });
    const s = await listen(metricsHandler(new Registry()), 0, "127.0.0.1", "metrics server", { cert, key });
    open.push(s);
    const get = (o: https.RequestOptions) =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(
          { host: "127.0.0.1", port: s.port, path: "/metrics", agent: false, ...o },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on("error", reject);
      });
    // The certificate verifies against its CA, for the loopback address.
    expect(await get({ ca: caCert })).toBe(200);
    await expect(get({ ca: caCert, maxVersion: "TLSv1.1", minVersion: "TLSv1" })).rejects.toThrow();
    // A plain HTTP request gets no metrics.
    await expect(request(s.port, {})).rejects.toThrow();
  });
});
