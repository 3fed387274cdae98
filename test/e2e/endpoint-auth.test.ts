// The manager as deploy/ runs it, with --endpoint-auth=kubernetes and deploy/'s ServiceAccount:
// /metrics and the planner's gRPC service refuse callers without a token (401, UNAUTHENTICATED),
// callers whose ServiceAccount lacks deploy/'s callers' roles (403, PERMISSION_DENIED), and serve
// the ServiceAccounts bound to kaito-ts-metrics-reader and kaito-ts-planner-client.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { credentials, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestCluster } from "../harness/index.ts";
import { until } from "../harness/until.ts";
import { httpsGet } from "../harness/https-get.ts";
import { KubeClient, type KubeObject } from "../../kube/client.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { resources } from "../../kube/resources.ts";
import { freePort } from "../../localcluster/ports.ts";
import { GrpcPlannerClient } from "../../planner/grpc/client.ts";
import { startOperator, type RunningOperator } from "./operator.ts";
import { startPrometheus } from "./prometheus.ts";
import { applyAll, managerRbac, resourceOf, serviceAccountKubeconfig } from "./rbac-manifests.ts";

const cluster = useTestCluster();

let admin: KubeClient;
let operator: RunningOperator | undefined;
let dir: string;
let namespace: string;
let metricsUrl: string;
let plannerAddress: string;
const tokens: Record<string, string> = {};
const bindings: KubeObject[] = [];

/** A ServiceAccount token from the TokenRequest API, as a pod's projected token. */
async function tokenOf(name: string): Promise<string> {
  const answer = await admin.request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 600 },
      },
    },
  );
  return answer.status.token;
}

/** Whether RBAC already lets `account` do it (the authorizer's cache fills asynchronously). */
async function allowed(account: string, attributes: { path: string; verb: string }): Promise<boolean> {
  const review = await admin.request<{ status: { allowed?: boolean } }>(
    "POST",
    "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    {
      body: {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: {
          user: `system:serviceaccount:${namespace}:${account}`,
          groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`],
          nonResourceAttributes: attributes,
        },
      },
    },
  );
  return review.status.allowed === true;
}

beforeAll(async () => {
  admin = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
  await applyAll(admin, managerRbac());
  namespace = await cluster.newNamespace("auth");
  // A Prometheus, a planner client, and a pod of no standing.
  const roleOf: Record<string, string | undefined> = {
    prometheus: "kaito-ts-metrics-reader",
    "planner-client": "kaito-ts-planner-client",
    stranger: undefined,
  };
  for (const [name, role] of Object.entries(roleOf)) {
    await admin.create(resources.serviceAccounts, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace },
    } as KubeObject);
    if (role) {
      const binding = {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: `${namespace}-${name}` },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
        subjects: [{ kind: "ServiceAccount", name, namespace }],
      } as KubeObject;
      await applyAll(admin, [binding]);
      bindings.push(binding);
    }
    tokens[name] = await tokenOf(name);
  }
  // Denials are cached for 30 s: start only once RBAC answers as it will.
  await until("the callers' bindings to take effect", async () =>
    (await allowed("prometheus", { path: "/metrics", verb: "get" })) &&
    (await allowed("planner-client", { path: "/kaito.planner.v1.Planner/Catalog", verb: "post" }))
      ? true
      : undefined,
  );

  dir = mkdtempSync(path.join(tmpdir(), "kaito-auth-"));
  const kubeconfigPath = path.join(dir, "kubeconfig");
  writeFileSync(kubeconfigPath, await serviceAccountKubeconfig(admin, cluster.kubeconfigPath), {
    mode: 0o600,
  });
  const plannerPort = await freePort();
  plannerAddress = `127.0.0.1:${plannerPort}`;
  operator = await startOperator(kubeconfigPath, {
    components: ["planner"],
    addresses: { planner: plannerAddress },
    endpointAuth: true,
  });
  const [metricsPort] = await until("the metrics server to listen", async () =>
    operator!.manager.ports().length >= 2 ? operator!.manager.ports() : undefined,
  );
  // HTTPS with a certificate the manager made at start.
  metricsUrl = `https://127.0.0.1:${metricsPort}/metrics`;
});

afterAll(async () => {
  await operator?.stop();
  for (const obj of [...bindings, ...managerRbac().reverse()]) {
    if (obj.kind === "Namespace") continue;
    await admin?.delete(resourceOf(obj), obj.metadata!.name!, obj.metadata?.namespace).catch(() => undefined);
  }
  admin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function scrape(token?: string): Promise<{ status: number; body: string }> {
  return httpsGet(metricsUrl, token ? { authorization: `Bearer ${token}` } : {});
}

async function catalogAs(token?: string, plaintext = false): Promise<number> {
  // TLS with the certificate the manager made at start: encrypted, not verified.
  const client = new GrpcPlannerClient(plannerAddress, {
    deadlineMs: 10_000,
    token: () => token,
    credentials: plaintext
      ? credentials.createInsecure()
      : credentials.createSsl(null, null, null, { rejectUnauthorized: false }),
  });
  try {
    await client.catalog();
    return status.OK;
  } catch (e) {
    return ((e as Error).cause as ServiceError).code;
  } finally {
    client.close();
  }
}

describe("the manager's endpoints with --endpoint-auth=kubernetes", () => {
  it("are scraped by a real Prometheus with deploy/monitoring's authorization, and refused without it", async () => {
    const address = new URL(metricsUrl).host;
    const tokenFile = (name: string) => {
      const file = path.join(dir, `${name}.token`);
      writeFileSync(file, tokens[name]!, { mode: 0o600 });
      return file;
    };
    const prometheus = await startPrometheus({
      ruleFiles: [],
      targets: [
        { job: "bound", address, https: true, credentialsFile: tokenFile("prometheus") },
        { job: "stranger", address, https: true, credentialsFile: tokenFile("stranger") },
        { job: "anonymous", address, https: true },
      ],
    });
    try {
      const targets = await until("every target to be scraped once", async () => {
        const t = await prometheus.targets();
        return t.length === 3 && t.every((x) => x.health !== "unknown") ? t : undefined;
      });
      const byJob = Object.fromEntries(targets.map((t) => [t.job, t]));
      expect(byJob.bound).toMatchObject({ health: "up", lastError: "" });
      expect(byJob.stranger!.health).toBe("down");
      expect(byJob.stranger!.lastError).toMatch(/403/);
      expect(byJob.anonymous!.health).toBe("down");
      expect(byJob.anonymous!.lastError).toMatch(/401/);
      const [up] = await prometheus.query('up{job="bound"}');
      expect(up?.value).toBe(1);
    } finally {
      await prometheus.stop();
    }
  });

  it("serve /metrics to the ServiceAccount bound to kaito-ts-metrics-reader only", async () => {
    expect((await scrape()).status).toBe(401);
    expect((await scrape("not-a-token")).status).toBe(401);
    const stranger = await scrape(tokens.stranger);
    expect(stranger.status).toBe(403);
    expect(stranger.body).toBe(`system:serviceaccount:${namespace}:stranger may not get /metrics\n`);
    expect((await scrape(tokens["planner-client"])).status).toBe(403);
    const prometheus = await scrape(tokens.prometheus);
    expect(prometheus.status).toBe(200);
    expect(prometheus.body).toMatch(/^kaito_process_/m);
  });

  it("serve the planner to the ServiceAccount bound to kaito-ts-planner-client only", async () => {
    expect(await catalogAs()).toBe(status.UNAUTHENTICATED);
    expect(await catalogAs("not-a-token")).toBe(status.UNAUTHENTICATED);
    expect(await catalogAs(tokens.stranger)).toBe(status.PERMISSION_DENIED);
    expect(await catalogAs(tokens.prometheus)).toBe(status.PERMISSION_DENIED);
    // The manager runs on deploy/'s kaito-manager token: without its rights to create
    // TokenReviews and SubjectAccessReviews, this would be UNAVAILABLE.
    expect(await catalogAs(tokens["planner-client"])).toBe(status.OK);
    // Never in clear: a plaintext client does not get as far as sending its token.
    expect(await catalogAs(tokens["planner-client"], true)).toBe(status.UNAVAILABLE);
  });
});
