// The kube-apiserver's bootstrap-token authenticator as the joining kubelet meets it
// (kubernetes/kubernetes plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go and
// staging/src/k8s.io/cluster-bootstrap: token/api/types.go, util/secrets/secrets.go), plus the one
// extra thing kubeadm's token discovery needs: the token must sign the cluster-info ConfigMap,
// which the bootstrap signer does only for tokens marked usage-bootstrap-signing=true.

export const bootstrapTokenSecretType = "bootstrap.kubernetes.io/token";
export const bootstrapTokenNamespace = "kube-system";
const tokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const groupPattern = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;

/** The Secret that backs a token id: kube-system/bootstrap-token-<id>. */
export function bootstrapTokenSecretName(tokenId: string): string {
  return `bootstrap-token-${tokenId}`;
}

/** A token's id, or undefined when it is not `[a-z0-9]{6}.[a-z0-9]{16}`. */
export function tokenIdOf(token: string): string | undefined {
  return tokenPattern.exec(token)?.[1];
}

/** The fields of a Secret as the API server returns them (data base64-encoded). */
export interface SecretLike {
  type?: string;
  metadata?: { name?: string; deletionTimestamp?: string };
  data?: Record<string, string>;
}

export type TokenCheck = { ok: true; tokenId: string } | { ok: false; reason: string };

/**
 * Whether `token` authenticates against `secret` (undefined: no such Secret) at `now`, for a join
 * that discovers the cluster with the token. Reasons name the token id only, never its secret.
 */
export function checkBootstrapToken(token: string, secret: SecretLike | undefined, now: number): TokenCheck {
  const m = tokenPattern.exec(token);
  if (!m) return { ok: false, reason: "the bootstrap token is not of the form [a-z0-9]{6}.[a-z0-9]{16}" };
  const [, id, tokenSecret] = m as unknown as [string, string, string];
  const name = `${bootstrapTokenNamespace}/${bootstrapTokenSecretName(id)}`;
  if (!secret) return { ok: false, reason: `no Secret ${name} backs bootstrap token ${id}` };
  if (secret.metadata?.deletionTimestamp) return { ok: false, reason: `Secret ${name} is being deleted` };
  if (secret.type !== bootstrapTokenSecretType || !secret.data)
    return { ok: false, reason: `Secret ${name} is of type ${secret.type}, not ${bootstrapTokenSecretType}` };
  const get = (key: string) => {
    const v = secret.data?.[key];
    return v === undefined ? "" : Buffer.from(v, "base64").toString("utf8");
  };
  if (get("token-secret") !== tokenSecret)
    return { ok: false, reason: `Secret ${name}'s token-secret does not match the token` };
  if (get("token-id") !== id) return { ok: false, reason: `Secret ${name}'s token-id is not ${id}` };
  const expiration = get("expiration");
  if (expiration) {
    // Go's time.RFC3339; anything unparseable counts as expired.
    const at = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(expiration)
      ? Date.parse(expiration)
      : Number.NaN;
    if (Number.isNaN(at)) return { ok: false, reason: `Secret ${name} has an unparseable expiration` };
    if (at <= now) return { ok: false, reason: `bootstrap token ${id} expired at ${expiration}` };
  }
  if (get("usage-bootstrap-authentication") !== "true")
    return { ok: false, reason: `Secret ${name} is not marked usage-bootstrap-authentication=true` };
  const groups = get("auth-extra-groups");
  if (groups && groups.split(",").some((g) => !groupPattern.test(g)))
    return { ok: false, reason: `Secret ${name} has an invalid auth-extra-groups` };
  if (get("usage-bootstrap-signing") !== "true")
    return {
      ok: false,
      reason: `Secret ${name} is not marked usage-bootstrap-signing=true, so kubeadm's token discovery finds no signed cluster-info`,
    };
  return { ok: true, tokenId: id };
}
