import { randomBytes } from "node:crypto";
import type { KubeObject } from "../../../kube/client.ts";
import {
  bootstrapTokenNamespace,
  bootstrapTokenSecretName,
  bootstrapTokenSecretType,
} from "./bootstrap-token.ts";

/** A bootstrap token as `kubeadm token create` makes one: `<id>.<secret>`, both [a-z0-9]. */
export interface BootstrapToken {
  id: string;
  secret: string;
  /** `<id>.<secret>`: the credential. */
  token: string;
}

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
const random = (n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join("");

export function newBootstrapToken(): BootstrapToken {
  const id = random(6);
  const secret = random(16);
  return { id, secret, token: `${id}.${secret}` };
}

export interface BootstrapTokenSecretOptions {
  /** RFC 3339; absent: the token never expires. */
  expiration?: string;
  /** Default true, as kubeadm token create sets it. */
  authentication?: boolean;
  /** Default true, as kubeadm token create sets it. */
  signing?: boolean;
  type?: string;
}

/** The kube-system Secret that backs a token, as `kubeadm token create` writes it. */
export function bootstrapTokenSecret(t: BootstrapToken, o: BootstrapTokenSecretOptions = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: bootstrapTokenSecretName(t.id), namespace: bootstrapTokenNamespace },
    type: o.type ?? bootstrapTokenSecretType,
    stringData: {
      "token-id": t.id,
      "token-secret": t.secret,
      ...(o.expiration ? { expiration: o.expiration } : {}),
      ...((o.authentication ?? true) ? { "usage-bootstrap-authentication": "true" } : {}),
      ...((o.signing ?? true) ? { "usage-bootstrap-signing": "true" } : {}),
      "auth-extra-groups": "system:bootstrappers:kubeadm:default-node-token",
    },
  } as KubeObject;
}

/**
 * Cloud-init that joins a node as the README's example does: kubeadm join with the token, the
 * kubelet's labels and taints from the operator's placeholders through /etc/default/kubelet.
 */
export function kubeadmJoinUserData(token: string, apiServer = "10.0.0.4:6443"): string {
  return [
    "#cloud-config",
    "write_files:",
    "  - path: /etc/default/kubelet",
    "    content: |",
    "      KUBELET_EXTRA_ARGS=--cloud-provider=external --node-labels={{KAITO_NODE_LABELS}} --register-with-taints={{KAITO_NODE_TAINTS}}",
    "runcmd:",
    `  - kubeadm join ${apiServer} --token ${token} --discovery-token-ca-cert-hash sha256:${"0".repeat(64)}`,
    "",
  ].join("\n");
}
