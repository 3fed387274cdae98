import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { KubeConfig } from "@kubernetes/client-node";
import { isInClusterConfig, loadKubeConfig } from "./config.ts";

const home = mkdtempSync(path.join(os.tmpdir(), "kaito-kubeconfig-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("loadKubeConfig", () => {
  it("fails fast with a hint instead of falling back to localhost:8080", () => {
    expect(() => loadKubeConfig({ env: { HOME: home } })).toThrow(
      /no Kubernetes cluster is configured; set KUBECONFIG/,
    );
  });

  it("names a KUBECONFIG file that does not exist", () => {
    expect(() => loadKubeConfig({ env: { KUBECONFIG: "/nope/config" } })).toThrow(
      "the kubeconfig /nope/config does not exist; point KUBECONFIG at an existing file.",
    );
  });

  it("loads the file KUBECONFIG names", () => {
    const file = path.join(home, "config");
    writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:6443'}}]",
        "users: [{name: u, user: {token: t}}]",
        "contexts: [{name: x, context: {cluster: c, user: u}}]",
        "current-context: x",
      ].join("\n"),
    );
    const kc = loadKubeConfig({ env: { KUBECONFIG: file } });
    expect(kc.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
    // A kubeconfig file is no pod's service account: --endpoint-auth auto leaves endpoints open.
    expect(isInClusterConfig(kc)).toBe(false);
  });
});

describe("isInClusterConfig", () => {
  it("recognises client-node's in-cluster configuration, which --endpoint-auth auto secures", () => {
    // client-node's own loader, with a path prefix under which no service account files exist
    // (it reads only the namespace file, when present).
    const kc = new KubeConfig();
    kc.loadFromCluster(path.join(home, "no-pod"));
    expect(isInClusterConfig(kc)).toBe(true);
  });
});
