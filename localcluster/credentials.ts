import { generateKeyPairSync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";

export interface Credentials {
  adminToken: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
  tokenFile: string;
}

/**
 * Writes the files kube-apiserver needs for authentication: a static token file whose admin user
 * is in system:masters, and the key pair that signs service-account tokens. The serving
 * certificate is left to kube-apiserver, which generates a self-signed one into --cert-dir.
 */
export function writeCredentials(dir: string): Credentials {
  const adminToken = randomBytes(24).toString("hex");
  const { publicKey, privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const serviceAccountPublicKey = path.join(dir, "sa.pub");
  const serviceAccountPrivateKey = path.join(dir, "sa.key");
  const tokenFile = path.join(dir, "tokens.csv");
  writeFileSync(serviceAccountPublicKey, publicKey, { mode: 0o600 });
  writeFileSync(serviceAccountPrivateKey, privateKey, { mode: 0o600 });
  writeFileSync(tokenFile, `${adminToken},kaito-admin,kaito-admin,"system:masters"\n`, { mode: 0o600 });
  return { adminToken, serviceAccountPublicKey, serviceAccountPrivateKey, tokenFile };
}

export interface KubeconfigInput {
  server: string;
  caPem: string;
  token: string;
  clusterName?: string;
  user?: string;
}

/** A kubeconfig with one cluster, user and context, as kubectl and client-node read it. */
export function kubeconfigYaml({
  server,
  caPem,
  token,
  clusterName = "kaito-local",
  user = "kaito-admin",
}: KubeconfigInput): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: clusterName,
        cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user, namespace: "default" } }],
    "current-context": clusterName,
  });
}
