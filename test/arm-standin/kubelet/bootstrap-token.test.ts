import { describe, expect, it } from "vitest";
import { checkBootstrapToken, type SecretLike } from "./bootstrap-token.ts";

// The authenticator's refusals, one per rule of kubernetes/kubernetes
// plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go (plus token discovery's signing).

const token = "abcdef.0123456789abcdef";
const now = Date.parse("2026-12-01T12:00:00Z");
const b64 = (s: string) => Buffer.from(s).toString("base64");
function secret(data: Record<string, string | undefined> = {}, o: Partial<SecretLike> = {}): SecretLike {
  const base: Record<string, string | undefined> = {
    "token-id": "abcdef",
    "token-secret": "0123456789abcdef",
    "usage-bootstrap-authentication": "true",
    "usage-bootstrap-signing": "true",
    ...data,
  };
  const encoded: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) encoded[k] = b64(v);
  return {
    type: "bootstrap.kubernetes.io/token",
    metadata: { name: "bootstrap-token-abcdef" },
    data: encoded,
    ...o,
  };
}
const reason = (t: string, s: SecretLike | undefined) => {
  const r = checkBootstrapToken(t, s, now);
  return r.ok ? "ok" : r.reason;
};

describe("bootstrap token authentication", () => {
  it("accepts a well-formed token whose Secret is valid, unexpired and usable", () => {
    expect(checkBootstrapToken(token, secret(), now)).toEqual({ ok: true, tokenId: "abcdef" });
    expect(reason(token, secret({ expiration: "2026-12-01T13:00:00Z" }))).toBe("ok");
    expect(
      reason(token, secret({ "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token" })),
    ).toBe("ok");
  });

  it("refuses a malformed token and a missing or deleted Secret", () => {
    for (const bad of ["ABCDEF.0123456789abcdef", "abcdef.0123456789abcde", "abcdef0123456789abcdef", ""])
      expect(reason(bad, secret())).toBe("the bootstrap token is not of the form [a-z0-9]{6}.[a-z0-9]{16}");
    expect(reason(token, undefined)).toBe(
      "no Secret kube-system/bootstrap-token-abcdef backs bootstrap token abcdef",
    );
    expect(reason(token, secret({}, { metadata: { deletionTimestamp: "2026-12-01T11:00:00Z" } }))).toMatch(
      /is being deleted/,
    );
  });

  it("refuses a Secret of another type, a wrong secret or id", () => {
    expect(reason(token, secret({}, { type: "Opaque" }))).toMatch(
      /of type Opaque, not bootstrap.kubernetes.io\/token/,
    );
    const wrong = reason(token, secret({ "token-secret": "ffffffffffffffff" }));
    expect(wrong).toMatch(/token-secret does not match/);
    expect(wrong).not.toContain("0123456789abcdef");
    expect(reason(token, secret({ "token-id": "zzzzzz" }))).toMatch(/token-id is not abcdef/);
  });

  it("refuses an expired token, and one whose expiration does not parse as RFC 3339", () => {
    expect(reason(token, secret({ expiration: "2026-12-01T11:59:59Z" }))).toBe(
      "bootstrap token abcdef expired at 2026-12-01T11:59:59Z",
    );
    expect(reason(token, secret({ expiration: "2026-12-01T12:00:00Z" }))).toMatch(/expired/);
    expect(reason(token, secret({ expiration: "tomorrow" }))).toMatch(/unparseable expiration/);
    expect(reason(token, secret({ expiration: "2026-12-02" }))).toMatch(/unparseable expiration/);
  });

  it("refuses a token not marked for authentication, or for signing the discovery ConfigMap", () => {
    expect(reason(token, secret({ "usage-bootstrap-authentication": undefined }))).toMatch(
      /not marked usage-bootstrap-authentication=true/,
    );
    expect(reason(token, secret({ "usage-bootstrap-authentication": "yes" }))).toMatch(/authentication=true/);
    expect(reason(token, secret({ "usage-bootstrap-signing": "false" }))).toMatch(
      /usage-bootstrap-signing=true/,
    );
    expect(reason(token, secret({ "auth-extra-groups": "system:masters" }))).toMatch(
      /invalid auth-extra-groups/,
    );
  });
});
