// The real Karpenter (kwok provider) against the run's shared test cluster, for the e2e suites of
// the `karpenter` node provisioner. Karpenter serves only NodeClaims whose nodeClassRef is a
// KWOKNodeClass, and the shared kwok plays the Nodes it creates (they carry kwok's annotation), so
// it leaves the other suites' Machines and nodes alone.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { ApiTarget } from "../../localcluster/http.ts";
import { ensureKarpenter, startKarpenter, type RunningKarpenter } from "../../localcluster/karpenter.ts";
import { scratchDirectory } from "../../lib/exit-hooks.ts";
import { karpenterInstanceTypes } from "../../provisioner/cloud/local/index.ts";

interface KubeconfigFile {
  clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
  users: { user: { token: string } }[];
}

/** The admin target of a kubeconfig written by localcluster/credentials.ts. */
export function targetOf(kubeconfigPath: string): ApiTarget {
  const k = parse(readFileSync(kubeconfigPath, "utf8")) as KubeconfigFile;
  return {
    server: k.clusters[0]!.cluster.server,
    caPem: Buffer.from(k.clusters[0]!.cluster["certificate-authority-data"], "base64").toString("utf8"),
    token: k.users[0]!.user.token,
  };
}

/** Builds Karpenter if the cache lacks it, installs its CRDs and starts it; stop() removes its files. */
export async function startTestKarpenter(kubeconfigPath: string): Promise<RunningKarpenter> {
  const install = await ensureKarpenter({ log: (l) => process.stderr.write(`${l}\n`) });
  const { dir, remove } = scratchDirectory("kaito-karpenter-");
  try {
    const karpenter = await startKarpenter({
      install,
      kubeconfigPath,
      target: targetOf(kubeconfigPath),
      dir: path.join(dir, "karpenter"),
      instanceTypes: karpenterInstanceTypes(),
      registrationDelaySeconds: 0,
    });
    return {
      process: karpenter.process,
      logFile: karpenter.logFile,
      async stop() {
        await karpenter.stop();
        remove();
      },
    };
  } catch (e) {
    remove();
    throw e;
  }
}
