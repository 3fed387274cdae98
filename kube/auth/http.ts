import type http from "node:http";
import { bearerToken, type AccessAttributes, type AuthVerdict } from "./review.ts";

/** What decides a request: DelegatedAuth.review, or a stand-in in tests. */
export type ReviewFn = (token: string | undefined, attributes: AccessAttributes) => Promise<AuthVerdict>;

const statusOf = { Unauthenticated: 401, Forbidden: 403, Unavailable: 500 } as const;

/**
 * Lets a request through to `handler` only when its bearer token's holder may use the path with
 * the request's method as the verb (`GET /metrics` needs `nonResourceURLs: [/metrics]`, `verbs:
 * [get]`), as controller-runtime's WithAuthenticationAndAuthorization filter does: 401 without a
 * valid token, 403 without the RBAC rule, 500 when the API server cannot be asked.
 */
export function withAuthentication(handler: http.RequestListener, review: ReviewFn): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    const verb = (req.method ?? "GET").toLowerCase();
    review(bearerToken(req.headers.authorization), { path, verb }).then(
      (verdict) => {
        if (verdict.allowed) {
          handler(req, res);
          return;
        }
        const body = `${verdict.message}\n`;
        res.writeHead(statusOf[verdict.code], {
          "content-type": "text/plain",
          "content-length": Buffer.byteLength(body),
          ...(verdict.code === "Unauthenticated" ? { "www-authenticate": 'Bearer realm="kaito-ts"' } : {}),
        });
        res.end(body);
      },
      (e: unknown) => res.writeHead(500).end(`${String(e)}\n`),
    );
  };
}
