// The in-cluster registration against the real API server: the Secret every replica serves from,
// the leader's caBundle patching, and a URL registration that the API server really calls.
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { X509Certificate } from "node:crypto";
import type { V1Secret } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../lib/clock.ts";
import { silentLogger } from "../lib/log.ts";
import { KubeClient, type KubeObject } from "../kube/client.ts";
import { loadKubeConfig } from "../kube/config.ts";
import { isKubeApiError } from "../kube/errors.ts";
import { resources } from "../kube/resources.ts";
import { randomSuffix, useTestCluster } from "../test/harness/index.ts";
import { until } from "../test/harness/until.ts";
import {
  mutatingConfiguration,
  mutatingWebhookConfigurations,
  validatingConfiguration,
  validatingWebhookConfigurations,
  webhookComponent,
} from "./index.ts";

const cluster = useTestCluster();
let client: KubeClient;
const configurations: string[] = [];
beforeAll(() => {
  client = new KubeClient(loadKubeConfig({ kubeconfig: cluster.kubeconfigPath }));
});
afterAll(async () => {
  for (const name of configurations)
    for (const r of [mutatingWebhookConfigurations, validatingWebhookConfigurations])
      await client.delete(r, name).catch(() => undefined);
  client?.close();
});

type Configuration = KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] };

describe("the webhook in the cluster (service mode)", () => {
  it("keeps one certificate in a Secret for every replica and writes its CA into both configurations", async () => {
    const namespace = await cluster.newNamespace("webhook");
    const name = `kaito-ts-test-${randomSuffix()}`;
    configurations.push(name);
    // As deploy/ ships them: a Service reference, no caBundle, and (here) a selector that matches
    // no namespace, so this registration never admits another test's Workspace.
    const options = {
      name,
      endpoint: { service: { namespace, name: "kaito-webhook", port: 443 } },
      namespaceLabels: { "kaito.sh/never": name },
    };
    await client.create(mutatingWebhookConfigurations, mutatingConfiguration(options));
    await client.create(validatingWebhookConfigurations, validatingConfiguration(options));

    const registration = {
      mode: "service" as const,
      namespace,
      serviceName: "kaito-webhook",
      secretName: "kaito-webhook-cert",
      configurationName: name,
    };
    // Two replicas: both serve, one of them leads.
    const replicas = [0, 1].map(() =>
      webhookComponent({
        client,
        clock: systemClock,
        log: silentLogger,
        host: "127.0.0.1",
        port: 0,
        registration,
      }),
    );
    const abort = new AbortController();
    const running = [
      ...replicas.map((r) => r.serve.start(abort.signal)),
      replicas[0]!.caBundles!.start(abort.signal),
    ];
    try {
      await until("both replicas to serve", async () =>
        replicas.every((r) => r.notReady() === undefined) ? true : undefined,
      );
      const secret = await client.get<V1Secret & KubeObject>(
        resources.secrets,
        "kaito-webhook-cert",
        namespace,
      );
      const caPem = Buffer.from(secret.data!["ca.crt"]!, "base64").toString();
      const ca = new X509Certificate(caPem);
      const leaf = new X509Certificate(Buffer.from(secret.data!["tls.crt"]!, "base64"));
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.subjectAltName).toContain(`DNS:kaito-webhook.${namespace}.svc`);

      // Both replicas present the Secret's certificate.
      for (const r of replicas) {
        const served = await new Promise<X509Certificate>((resolve, reject) => {
          const req = https.request(
            `${r.url()}/validate`,
            { method: "POST", ca: caPem, servername: "localhost", checkServerIdentity: () => undefined },
            (res) => {
              const peer = (res.socket as TLSSocket).getPeerX509Certificate()!;
              res.resume();
              resolve(peer);
            },
          );
          req.on("error", reject);
          req.end("{}");
        });
        expect(served.fingerprint256).toBe(leaf.fingerprint256);
      }

      // The leader writes the CA into both configurations.
      const expected = Buffer.from(caPem).toString("base64");
      await until("the caBundles to be written", async () => {
        const m = await client.get<Configuration>(mutatingWebhookConfigurations, name);
        const v = await client.get<Configuration>(validatingWebhookConfigurations, name);
        return [...m.webhooks, ...v.webhooks].every((w) => w.clientConfig.caBundle === expected)
          ? true
          : undefined;
      });
    } finally {
      abort.abort();
      await Promise.all(running);
    }
  });
});

describe("the webhook registered by URL (kaito up, tests)", () => {
  it("is called by the API server for its namespaces only, and leaves no configuration when it stops", async () => {
    const label = { "kaito.sh/webhook-test": randomSuffix(8) };
    const name = `kaito-ts-test-${label["kaito.sh/webhook-test"]}`;
    configurations.push(name);
    const component = webhookComponent({
      client,
      clock: systemClock,
      log: silentLogger,
      host: "127.0.0.1",
      port: 0,
      registration: { mode: "url", configurationName: name, namespaceLabels: label },
    });
    const abort = new AbortController();
    const running = component.serve.start(abort.signal);
    const inScope = await cluster.newNamespace("url-webhook", label);
    const outOfScope = await cluster.newNamespace("url-webhook");
    const bad = (namespace: string) => ({
      apiVersion: "kaito.sh/v1alpha1",
      kind: "Workspace",
      metadata: { name: "bad", namespace },
      resource: { labelSelector: { matchLabels: { a: "b" } } },
      inference: { preset: { name: "phi-9" } },
    });
    try {
      await until("the webhook to be registered", async () =>
        component.notReady() === undefined ? true : undefined,
      );
      // The API server may take a moment to see a new configuration: wait for the refusal.
      const refusal = await until("the API server to call the webhook", async () => {
        try {
          await client.create(resources.workspaces, bad(inScope));
          await client.delete(resources.workspaces, "bad", inScope);
          return undefined;
        } catch (e) {
          return isKubeApiError(e) ? e.message : undefined;
        }
      });
      expect(refusal).toContain('inference.preset.name "phi-9" is not a known preset');
      // Another test's namespace is not this registration's business. (Deleted at once: no
      // operator runs here, and one in a later file must not find it.)
      await client.create(resources.workspaces, bad(outOfScope));
      await client.delete(resources.workspaces, "bad", outOfScope);
    } finally {
      abort.abort();
      await running;
    }
    for (const r of [mutatingWebhookConfigurations, validatingWebhookConfigurations])
      await expect(client.get(r, name)).rejects.toThrow();
  });
});
