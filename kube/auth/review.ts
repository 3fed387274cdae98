import { createHash } from "node:crypto";
import type { Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { KubeClient } from "../client.ts";
import { ExpiringCache } from "./cache.ts";

/** Who a token belongs to, as the API server's TokenReview reports it. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/**
 * What the caller asks to do: a non-resource URL and a verb, the attributes RBAC's
 * `nonResourceURLs` rules match (`/metrics` with `get`; a planner method's path with `post`).
 */
export interface AccessAttributes {
  path: string;
  verb: string;
}

export type AuthVerdict =
  | { allowed: true; user: string }
  | {
      allowed: false;
      /**
       * Unauthenticated: no token, or one the API server does not accept (HTTP 401, gRPC
       * UNAUTHENTICATED). Forbidden: a known caller without the RBAC rule (403,
       * PERMISSION_DENIED). Unavailable: the API server could not be asked (500, UNAVAILABLE).
       */
      code: "Unauthenticated" | "Forbidden" | "Unavailable";
      message: string;
    };

/** The two review calls, behind a seam so unit tests count them without an API server. */
export interface ReviewApi {
  tokenReview(token: string): Promise<{ authenticated: boolean; user?: UserInfo; error?: string }>;
  subjectAccessReview(
    user: UserInfo,
    attributes: AccessAttributes,
  ): Promise<{ allowed: boolean; reason?: string; evaluationError?: string }>;
}

/** The review calls against a real API server (the caller needs `create` on both kinds). */
export function kubeReviewApi(client: KubeClient): ReviewApi {
  return {
    async tokenReview(token) {
      const answer = await client.request<{
        status?: { authenticated?: boolean; user?: UserInfo; error?: string };
      }>("POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
        body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
      });
      const s = answer.status ?? {};
      return { authenticated: s.authenticated === true, user: s.user, error: s.error };
    },
    async subjectAccessReview(user, attributes) {
      const answer = await client.request<{
        status?: { allowed?: boolean; reason?: string; evaluationError?: string };
      }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups,
            extra: user.extra,
            nonResourceAttributes: { path: attributes.path, verb: attributes.verb },
          },
        },
      });
      const s = answer.status ?? {};
      return { allowed: s.allowed === true, reason: s.reason, evaluationError: s.evaluationError };
    },
  };
}

/**
 * How long answers are kept: controller-runtime's metrics filter
 * (pkg/metrics/filters/filters.go) keeps authentications a minute, allowed decisions five
 * minutes and denials thirty seconds, so a scrape every 15 s costs the API server two calls every
 * few minutes rather than two per scrape. A revoked RoleBinding therefore takes up to the allow TTL
 * to bite, as there.
 */
export const defaultReviewTtl = { authenticatedMs: 60_000, allowMs: 300_000, denyMs: 30_000 };

export interface DelegatedAuthOptions {
  api: ReviewApi;
  clock: Clock;
  log?: Logger;
  ttl?: Partial<typeof defaultReviewTtl>;
  /** Most answers kept of each kind (default 1,000). */
  maxEntries?: number;
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | readonly string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = /^bearer\s+(\S+)\s*$/i.exec((value as string | undefined) ?? "");
  return m?.[1];
}

type Authenticated = { authenticated: true; user: UserInfo } | { authenticated: false; message: string };

/**
 * Authentication and authorisation delegated to the API server, as kube-rbac-proxy and
 * controller-runtime's secure metrics do: a TokenReview says who holds the bearer token, a
 * SubjectAccessReview whether RBAC lets that user use the path with the verb. Answers are cached
 * (bounded, on the injected clock; tokens only as hashes) and concurrent identical reviews share
 * one call. A failed call is never cached: the next request asks again.
 */
export class DelegatedAuth {
  private readonly api: ReviewApi;
  private readonly log: Logger;
  private readonly ttl: typeof defaultReviewTtl;
  private readonly users: ExpiringCache<Authenticated>;
  private readonly decisions: ExpiringCache<AuthVerdict>;
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(o: DelegatedAuthOptions) {
    this.api = o.api;
    this.log = o.log ?? silentLogger;
    this.ttl = { ...defaultReviewTtl, ...o.ttl };
    this.users = new ExpiringCache(o.clock, o.maxEntries ?? 1_000);
    this.decisions = new ExpiringCache(o.clock, o.maxEntries ?? 1_000);
  }

  /** Whether the holder of `token` may use `attributes`. Never throws. */
  async review(token: string | undefined, attributes: AccessAttributes): Promise<AuthVerdict> {
    if (!token) return { allowed: false, code: "Unauthenticated", message: "a bearer token is required" };
    try {
      const who = await this.authenticate(token);
      if (!who.authenticated) return { allowed: false, code: "Unauthenticated", message: who.message };
      return await this.authorize(who.user, attributes);
    } catch (e) {
      this.log.warn("could not review a caller with the API server", { error: errorMessage(e) });
      return {
        allowed: false,
        code: "Unavailable",
        message: `the caller could not be checked with the API server: ${errorMessage(e)}`,
      };
    }
  }

  private authenticate(token: string): Promise<Authenticated> {
    const key = createHash("sha256").update(token).digest("hex");
    const cached = this.users.get(key);
    if (cached) return Promise.resolve(cached);
    return this.once(`authn:${key}`, async () => {
      const r = await this.api.tokenReview(token);
      const answer: Authenticated =
        r.authenticated && r.user?.username
          ? { authenticated: true, user: r.user }
          : { authenticated: false, message: "the bearer token is not valid" };
      this.users.set(key, answer, this.ttl.authenticatedMs);
      return answer;
    });
  }

  private authorize(user: UserInfo, attributes: AccessAttributes): Promise<AuthVerdict> {
    const key = JSON.stringify([
      user.username,
      user.uid ?? "",
      [...(user.groups ?? [])].sort(),
      Object.entries(user.extra ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      attributes.path,
      attributes.verb,
    ]);
    const cached = this.decisions.get(key);
    if (cached) return Promise.resolve(cached);
    return this.once(`authz:${key}`, async () => {
      const r = await this.api.subjectAccessReview(user, attributes);
      const verdict: AuthVerdict = r.allowed
        ? { allowed: true, user: user.username }
        : {
            allowed: false,
            code: "Forbidden",
            message: `${user.username} may not ${attributes.verb} ${attributes.path}`,
          };
      this.decisions.set(key, verdict, r.allowed ? this.ttl.allowMs : this.ttl.denyMs);
      return verdict;
    });
  }

  /** Runs `work` once for concurrent callers with the same key. */
  private once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const p = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }
}
