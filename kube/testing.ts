import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "./client.ts";

/**
 * A client for an API server that does not exist (port 1 on loopback): for unit tests that build
 * components whose constructors take a client but never call it. Close it after the test.
 */
export function unreachableKubeClient(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return new KubeClient(kc);
}
