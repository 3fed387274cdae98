import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { ExpiringCache } from "./cache.ts";
import {
  bearerToken,
  defaultReviewTtl,
  DelegatedAuth,
  type AccessAttributes,
  type ReviewApi,
  type UserInfo,
} from "./review.ts";

/** A stand-in API server: known tokens, an RBAC table, counted calls, and failures on demand. */
function fakeApi(o: { tokens: Record<string, UserInfo>; grants: Record<string, string[]> }) {
  const calls = { tokenReviews: 0, accessReviews: 0 };
  let failNext: Error | undefined;
  let gate: Promise<void> | undefined;
  const api: ReviewApi = {
    async tokenReview(token) {
      calls.tokenReviews++;
      await gate;
      if (failNext) {
        const e = failNext;
        failNext = undefined;
        throw e;
      }
      const user = o.tokens[token];
      return user ? { authenticated: true, user } : { authenticated: false, error: "invalid bearer token" };
    },
    async subjectAccessReview(user: UserInfo, a: AccessAttributes) {
      calls.accessReviews++;
      return { allowed: (o.grants[user.username] ?? []).includes(`${a.verb} ${a.path}`) };
    },
  };
  return {
    api,
    calls,
    failOnce: (e: Error) => (failNext = e),
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const prometheus = {
  username: "system:serviceaccount:monitoring:prometheus",
  groups: ["system:serviceaccounts"],
};
const other = { username: "system:serviceaccount:default:default", groups: ["system:serviceaccounts"] };
const metrics = { path: "/metrics", verb: "get" };

function setup() {
  const clock = new FakeClock();
  const fake = fakeApi({
    tokens: { "prom-token": prometheus, "other-token": other },
    grants: { [prometheus.username]: ["get /metrics"] },
  });
  return { clock, fake, auth: new DelegatedAuth({ api: fake.api, clock, maxEntries: 3 }) };
}

describe("DelegatedAuth", () => {
  it("allows a caller RBAC allows, forbids one it does not, and refuses no or an unknown token", async () => {
    const { auth } = setup();
    expect(await auth.review("prom-token", metrics)).toEqual({ allowed: true, user: prometheus.username });
    expect(await auth.review("other-token", metrics)).toMatchObject({ allowed: false, code: "Forbidden" });
    expect(await auth.review("nonsense", metrics)).toMatchObject({ allowed: false, code: "Unauthenticated" });
    expect(await auth.review(undefined, metrics)).toMatchObject({ allowed: false, code: "Unauthenticated" });
    // The path is part of the question.
    expect(await auth.review("prom-token", { path: "/debug", verb: "get" })).toMatchObject({
      code: "Forbidden",
    });
  });

  it("asks the API server once per minute for a scrape every 15 s, not twice per scrape", async () => {
    const { auth, clock, fake } = setup();
    for (let i = 0; i < 8; i++) {
      expect((await auth.review("prom-token", metrics)).allowed).toBe(true);
      clock.step(15_000);
    }
    // Two minutes of scrapes: the authentication is asked again after each minute, the allowed
    // decision is still within its five minutes.
    expect(fake.calls).toEqual({ tokenReviews: 2, accessReviews: 1 });
    clock.step(defaultReviewTtl.allowMs);
    await auth.review("prom-token", metrics);
    expect(fake.calls.accessReviews).toBe(2);
  });

  it("keeps a denial only 30 s, so a RoleBinding just granted soon takes effect", async () => {
    const { auth, clock, fake } = setup();
    await auth.review("other-token", metrics);
    clock.step(defaultReviewTtl.denyMs - 1);
    await auth.review("other-token", metrics);
    expect(fake.calls.accessReviews).toBe(1);
    clock.step(1);
    await auth.review("other-token", metrics);
    expect(fake.calls.accessReviews).toBe(2);
  });

  it("never caches a failed call: the API server is asked again next time", async () => {
    const { auth, fake } = setup();
    fake.failOnce(new Error("connect ECONNREFUSED"));
    const failed = await auth.review("prom-token", metrics);
    expect(failed).toMatchObject({ allowed: false, code: "Unavailable" });
    expect(failed.allowed === false && failed.message).toMatch(/ECONNREFUSED/);
    expect((await auth.review("prom-token", metrics)).allowed).toBe(true);
    expect(fake.calls.tokenReviews).toBe(2);
  });

  it("shares one review between concurrent requests with the same token", async () => {
    const { auth, fake } = setup();
    const release = fake.hold();
    const answers = Promise.all([1, 2, 3, 4].map(() => auth.review("prom-token", metrics)));
    release();
    expect((await answers).every((a) => a.allowed)).toBe(true);
    expect(fake.calls).toEqual({ tokenReviews: 1, accessReviews: 1 });
  });

  it("holds at most maxEntries answers of each kind, however many tokens arrive", async () => {
    const { auth, fake } = setup();
    for (let i = 0; i < 10; i++) await auth.review(`junk-${i}`, metrics);
    expect(fake.calls.tokenReviews).toBe(10);
    // The cache (3 entries) kept the latest three, so the first is asked again.
    await auth.review("junk-9", metrics);
    expect(fake.calls.tokenReviews).toBe(10);
    await auth.review("junk-0", metrics);
    expect(fake.calls.tokenReviews).toBe(11);
  });
});

describe("bearerToken", () => {
  it("reads the token of a Bearer header, in any case, and nothing else", () => {
    expect(bearerToken("Bearer abc.def")).toBe("abc.def");
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Basic dXNlcjpwdw==")).toBeUndefined();
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe("ExpiringCache", () => {
  it("forgets entries at their expiry and the oldest one when full", () => {
    const clock = new FakeClock();
    const cache = new ExpiringCache<number>(clock, 2);
    cache.set("a", 1, 1_000);
    cache.set("b", 2, 5_000);
    clock.step(1_000);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toBe(2);
    cache.set("c", 3, 5_000);
    cache.set("d", 4, 5_000);
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("d")).toBe(4);
  });
});
