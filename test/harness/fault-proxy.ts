import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

/** One request as it reached the proxy. */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Date.now() when it arrived. */
  at: number;
  /** What the client got back: upstream's status, 429 from a storm, or undefined (hung, or in flight). */
  status?: number;
}

/**
 * How the proxy treats what it receives:
 * - pass: forwards every request to kube-apiserver and streams the answer back;
 * - hang: answers nothing new (an API server that stopped answering mid-request; the requests
 *   are held until the client gives up), while watches already open keep flowing;
 * - throttle: answers every request 429 with Retry-After, as kube-apiserver does under API
 *   Priority and Fairness or --max-requests-inflight.
 */
export type ProxyMode = { kind: "pass" } | { kind: "hang" } | { kind: "throttle"; retryAfterSeconds: number };

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: ProxiedRequest[];
  setMode(mode: ProxyMode): void;
  /** A kubeconfig that reaches the API server through the proxy, with the same credentials. */
  kubeConfig(): KubeConfig;
  /** The same, as YAML for a process of its own. */
  kubeconfigYaml(): string;
  close(): Promise<void>;
}

/** kube-apiserver's own 429 body (a metav1.Status). */
function tooManyRequests(retryAfterSeconds: number): string {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "Too many requests, please try again later.",
    reason: "TooManyRequests",
    details: { retryAfterSeconds },
    code: 429,
  });
}

/**
 * A loopback HTTP proxy in front of the test cluster's kube-apiserver that records every request
 * and injects faults (see ProxyMode). It speaks plain HTTP to its clients and HTTPS, with the
 * cluster's CA, upstream; the client's bearer token passes through, so kube-apiserver
 * authenticates and authorizes each request as it would directly.
 */
export async function startFaultProxy(target: KubeConfig): Promise<FaultProxy> {
  const cluster = target.getCurrentCluster();
  const user = target.getCurrentUser();
  if (!cluster || !user?.token)
    throw new Error("the fault proxy needs a kubeconfig with a cluster and a token");
  const upstream = new URL(cluster.server);
  const tls: https.RequestOptions = {};
  await target.applyToHTTPSOptions(tls);
  const agent = new https.Agent({ keepAlive: true, ca: tls.ca });
  let mode: ProxyMode = { kind: "pass" };
  const requests: ProxiedRequest[] = [];
  const held = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const record: ProxiedRequest = { method: req.method ?? "GET", url: req.url ?? "/", at: Date.now() };
    requests.push(record);
    if (mode.kind === "hang") {
      held.add(res);
      res.on("close", () => held.delete(res));
      req.resume();
      return;
    }
    if (mode.kind === "throttle") {
      record.status = 429;
      req.resume();
      res
        .writeHead(429, { "content-type": "application/json", "retry-after": String(mode.retryAfterSeconds) })
        .end(tooManyRequests(mode.retryAfterSeconds));
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    const up = https.request(
      new URL(req.url ?? "/", upstream),
      { method: req.method, headers, agent },
      (upRes) => {
        record.status = upRes.statusCode;
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
        res.on("close", () => upRes.destroy());
      },
    );
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const kubeConfig = () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      // client-node refuses plain http unless TLS verification is off; the proxy is loopback only.
      clusters: [{ name: "proxy", server: url, skipTLSVerify: true }],
      users: [{ name: "proxy", token: user.token }],
      contexts: [{ name: "proxy", cluster: "proxy", user: "proxy" }],
      currentContext: "proxy",
    });
    return kc;
  };
  return {
    url,
    requests,
    setMode(next) {
      mode = next;
      if (next.kind !== "hang") {
        // Whatever was held is never answered: its client has given up on it by now.
        for (const res of held) res.destroy();
        held.clear();
      }
    },
    kubeConfig,
    kubeconfigYaml: () => kubeConfig().exportConfig(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
