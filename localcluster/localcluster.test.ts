import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { afterEach, describe, expect, it } from "vitest";
import { binaryEnvVar, locateBinaries } from "./binaries.ts";
import { apiServerArgs, kwokArgs } from "./components.ts";
import { kubeconfigYaml } from "./credentials.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), "kaito-unit-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function executable(dir: string, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, "#!/bin/sh\n");
  chmodSync(file, 0o755);
  return file;
}

describe("locateBinaries", () => {
  it("prefers the env var, then the cache, then PATH, and reports the rest missing", () => {
    const cache = tempDir();
    const onPath = tempDir();
    const override = executable(tempDir(), "my-apiserver");
    executable(cache, "etcd");
    executable(cache, "kwok");
    executable(onPath, "kwok");
    executable(onPath, "kube-scheduler");
    const { found, missing } = locateBinaries(cache, {
      PATH: onPath,
      [binaryEnvVar("kube-apiserver")]: override,
    });
    expect(found).toEqual({
      etcd: path.join(cache, "etcd"),
      kwok: path.join(cache, "kwok"),
      "kube-apiserver": override,
      "kube-scheduler": path.join(onPath, "kube-scheduler"),
    });
    expect(missing).toEqual(["kube-controller-manager"]);
  });

  it("names the env var when it points at nothing", () => {
    expect(() => locateBinaries(tempDir(), { KAITO_ETCD_BIN: "/nonexistent/etcd" })).toThrow(
      "KAITO_ETCD_BIN points at /nonexistent/etcd, which is not an executable file; fix or unset it.",
    );
  });
});

describe("component flags", () => {
  it("binds kube-apiserver to loopback with token authentication and RBAC", () => {
    const args = apiServerArgs({
      etcdPort: 2379,
      port: 6443,
      certDir: "/c",
      tokenFile: "/t",
      serviceAccountPublicKey: "/p",
      serviceAccountPrivateKey: "/k",
    });
    expect(args).toContain("--bind-address=127.0.0.1");
    expect(args).toContain("--secure-port=6443");
    expect(args).toContain("--etcd-servers=http://127.0.0.1:2379");
    expect(args).toContain("--authorization-mode=RBAC");
  });

  it("lets kwok manage only annotated nodes", () => {
    expect(kwokArgs({ kubeconfig: "/k", port: 1 })).toContain(
      "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    );
  });
});

describe("kubeconfigYaml", () => {
  it("writes one cluster, user and current context", () => {
    const cfg = parse(kubeconfigYaml({ server: "https://127.0.0.1:1", caPem: "PEM", token: "t0k" })) as {
      clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
      users: { user: { token: string } }[];
      "current-context": string;
    };
    expect(cfg.clusters[0]!.cluster.server).toBe("https://127.0.0.1:1");
    expect(Buffer.from(cfg.clusters[0]!.cluster["certificate-authority-data"], "base64").toString()).toBe(
      "PEM",
    );
    expect(cfg.users[0]!.user.token).toBe("t0k");
    expect(cfg["current-context"]).toBe("kaito-local");
  });
});
