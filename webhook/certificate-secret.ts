import type { V1Secret } from "@kubernetes/client-node";
import type { KubeClient, KubeObject } from "../kube/client.ts";
import { isAlreadyExists, isNotFound } from "../kube/errors.ts";
import { resources as api } from "../kube/resources.ts";
import {
  certificatesFit,
  generateServingCertificates,
  type CertificateRequest,
  type ServingCertificates,
} from "./certs.ts";

type Secret = V1Secret & KubeObject;

function decode(secret: Secret): ServingCertificates | undefined {
  const d = secret.data ?? {};
  const read = (k: string) => (d[k] ? Buffer.from(d[k], "base64").toString("utf8") : undefined);
  const cert = read("tls.crt");
  const key = read("tls.key");
  const caCert = read("ca.crt");
  return cert && key && caCert ? { cert, key, caCert } : undefined;
}

function encode(c: ServingCertificates): Record<string, string> {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return { "tls.crt": b64(c.cert), "tls.key": b64(c.key), "ca.crt": b64(c.caCert) };
}

/**
 * The serving certificates kept in a Secret of the manager's namespace, so every replica serves
 * the same one and the caBundle patched into the configurations matches all of them. The first
 * replica to find none creates it (a create race is settled by AlreadyExists: the loser reads
 * the winner's); `renew` (the leader) replaces one that no longer fits the names or is within 30
 * days of expiry.
 */
export async function loadServingSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  request: Omit<CertificateRequest, "validDays">,
  renew: boolean,
): Promise<ServingCertificates> {
  let secret: Secret | undefined;
  try {
    secret = await client.get<Secret>(api.secrets, name, namespace);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const current = secret && decode(secret);
  if (current && (!renew || certificatesFit(current, request))) return current;
  const fresh = generateServingCertificates(request);
  if (!secret) {
    try {
      await client.create<Secret>(api.secrets, {
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/tls",
        metadata: { name, namespace, labels: { "app.kubernetes.io/name": "kaito-ts" } },
        data: encode(fresh),
      });
      return fresh;
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const won = decode(await client.get<Secret>(api.secrets, name, namespace));
      if (!won)
        throw new Error(`the Secret ${namespace}/${name} holds no tls.crt, tls.key and ca.crt`, { cause: e });
      return won;
    }
  }
  // Replace, guarded by the resourceVersion read: a concurrent writer makes this fail and retry.
  await client.update<Secret>(api.secrets, { ...secret, type: "kubernetes.io/tls", data: encode(fresh) });
  return fresh;
}
