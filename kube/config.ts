import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { UserError } from "../lib/errors.ts";

const inClusterTokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * Loads the kubeconfig the way kubectl does ($KUBECONFIG, the in-cluster service account, then
 * ~/.kube/config) but fails fast when there is none: client-node's loadFromDefault would quietly
 * fall back to http://localhost:8080 and every later call would fail far from the cause.
 */
export function loadKubeConfig(options: { kubeconfig?: string; env?: NodeJS.ProcessEnv } = {}): KubeConfig {
  const env = options.env ?? process.env;
  const kc = new KubeConfig();
  const explicit = options.kubeconfig ?? env.KUBECONFIG;
  if (explicit) {
    const files = explicit.split(path.delimiter).filter(Boolean);
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length === files.length) {
      throw new UserError(
        `the kubeconfig ${missing.join(", ")} does not exist; point KUBECONFIG at an existing file.`,
      );
    }
    kc.loadFromFile(files.find((f) => existsSync(f))!);
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(inClusterTokenPath)) {
    kc.loadFromCluster();
  } else {
    const home = path.join(env.HOME ?? os.homedir(), ".kube", "config");
    if (!existsSync(home)) {
      throw new UserError(
        "no Kubernetes cluster is configured; set KUBECONFIG (for the local cluster: npm start prints it) or run inside a cluster.",
      );
    }
    kc.loadFromFile(home);
  }
  if (!kc.getCurrentCluster()) {
    throw new UserError(
      "the kubeconfig has no current context with a cluster; run `kubectl config use-context NAME`.",
    );
  }
  return kc;
}

/** Whether `kc` is the pod's own service account (loadFromCluster), i.e. we run in a cluster. */
export function isInClusterConfig(kc: KubeConfig): boolean {
  return kc.getCurrentCluster()?.name === "inCluster" && kc.getCurrentUser()?.name === "inClusterUser";
}
