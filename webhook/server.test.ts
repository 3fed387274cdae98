import https from "node:https";
import type { TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../lib/log.ts";
import { certificatesFit, generateServingCertificates, type ServingCertificates } from "./certs.ts";
import { startWebhookServer, type WebhookServer } from "./server.ts";
import { workspaceRoutes } from "./index.ts";

const now = Date.UTC(2026, 11, 6);
let certs: ServingCertificates;
let server: WebhookServer;
const outcomes: string[] = [];

beforeAll(async () => {
  certs = generateServingCertificates({
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    now: Date.now(),
  });
  server = await startWebhookServer({
    host: "127.0.0.1",
    port: 0,
    cert: certs.cert,
    key: certs.key,
    routes: workspaceRoutes(),
    log: silentLogger,
    maxBodyBytes: 64 * 1024,
    onResult: (path, outcome) => outcomes.push(`${path} ${outcome}`),
  });
});
afterAll(() => server?.close());

function post(
  path: string,
  body: string,
  o: { method?: string; maxVersion?: "TLSv1.2" | "TLSv1.3" } = {},
): Promise<{ status: number; json: Record<string, unknown>; protocol?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${server.url}${path}`,
      {
        method: o.method ?? "POST",
        ca: certs.caCert,
        headers: { "content-type": "application/json" },
        ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        const protocol = (res.socket as TLSSocket).getProtocol?.() ?? undefined;
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || "{}"), protocol }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const review = (object: unknown, version = "v1alpha1") =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "c0ffee",
      kind: { group: "kaito.sh", version, kind: "Workspace" },
      requestKind: { group: "kaito.sh", version, kind: "Workspace" },
      operation: "CREATE",
      object,
    },
  });

const phi3 = {
  apiVersion: "kaito.sh/v1alpha1",
  kind: "Workspace",
  metadata: { name: "w", namespace: "default" },
  resource: { labelSelector: { matchLabels: { a: "b" } } },
  inference: { preset: { name: "phi-3-mini-4k-instruct" } },
};

describe("the webhook's HTTPS server", () => {
  it("answers an AdmissionReview on /mutate with a JSON patch, echoing the uid", async () => {
    const { status, json } = await post("/mutate", review(phi3));
    expect(status).toBe(200);
    const response = json.response as { uid: string; allowed: boolean; patchType: string; patch: string };
    expect(response).toMatchObject({ uid: "c0ffee", allowed: true, patchType: "JSONPatch" });
    expect(JSON.parse(Buffer.from(response.patch, "base64").toString())).toEqual([
      { op: "add", path: "/metadata/annotations", value: { "kaito.sh/runtime": "transformers" } },
    ]);
  });

  it("denies on /validate with a 422 status and the sentence kubectl prints", async () => {
    outcomes.length = 0;
    const { json } = await post(
      "/validate",
      review({ ...phi3, inference: { preset: { name: "phi-9" } } }, "v1beta1"),
    );
    expect(json.response).toMatchObject({
      uid: "c0ffee",
      allowed: false,
      status: {
        code: 422,
        message: expect.stringMatching(/^inference\.preset\.name "phi-9" is not a known preset/),
      },
    });
    expect(outcomes).toEqual(["/validate denied"]);
  });

  it("answers malformed requests with 400, unknown paths with 404, other methods with 405", async () => {
    outcomes.length = 0;
    expect((await post("/validate", "{not json")).status).toBe(400);
    expect((await post("/validate", JSON.stringify({ kind: "AdmissionReview" }))).status).toBe(400);
    expect((await post("/convert", review(phi3))).status).toBe(404);
    expect((await post("/mutate", "", { method: "GET" })).status).toBe(405);
    // Counted under the route, or "other" for a path nobody serves (a bounded label set).
    expect(outcomes).toEqual([
      "/validate bad_request",
      "/validate bad_request",
      "other bad_request",
      "/mutate bad_request",
    ]);
  });

  it("refuses bodies over the limit with 413", async () => {
    const big = review({ ...phi3, metadata: { ...phi3.metadata, annotations: { pad: "x".repeat(70_000) } } });
    expect((await post("/validate", big)).status).toBe(413);
  });

  // Below 1.2 Node's OpenSSL refuses on both ends already, so only what is served can be shown.
  it("serves API servers that speak TLS 1.2 as well as 1.3", async () => {
    const old = await post("/mutate", review(phi3), { maxVersion: "TLSv1.2" });
    expect([old.status, old.protocol]).toEqual([200, "TLSv1.2"]);
    expect((await post("/mutate", review(phi3))).protocol).toBe("TLSv1.3");
  });
});

describe("serving certificates", () => {
  it("chain to their CA and name the addresses they serve", () => {
    const c = generateServingCertificates({
      dnsNames: ["kaito-webhook.kaito-system.svc"],
      now,
    });
    const ca = new X509Certificate(c.caCert);
    const leaf = new X509Certificate(c.cert);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(leaf.subjectAltName).toBe("DNS:kaito-webhook.kaito-system.svc");
    expect(certificatesFit(c, { dnsNames: ["kaito-webhook.kaito-system.svc"], now })).toBe(true);
    // Renewed 30 days before expiry, or when the names change.
    expect(
      certificatesFit(c, { dnsNames: ["kaito-webhook.kaito-system.svc"], now: now + 340 * 86_400_000 }),
    ).toBe(false);
    expect(certificatesFit(c, { dnsNames: ["other.kaito-system.svc"], now })).toBe(false);
  });
});
