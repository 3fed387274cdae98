// The admission webhook: an HTTPS server with one handler per path (/mutate, /validate), its
// certificates, and how the API server is told about it. Every replica serves; only the leader
// writes caBundles. A conversion webhook for a later Workspace version adds a "raw" route on the
// same server and a CaBundleTarget for the CRD, with the same certificate.
import { isIP } from "node:net";
import type { Registry } from "prom-client";
import type { Clock } from "../lib/clock.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { KubeClient } from "../kube/client.ts";
import { ignoreNotFound } from "../kube/errors.ts";
import type { Runnable } from "../kube/runtime/manager.ts";
import { patchCaBundles, webhookConfigurationTargets, type CaBundleTarget } from "./ca-bundle.ts";
import { loadServingSecret } from "./certificate-secret.ts";
import { generateServingCertificates } from "./certs.ts";
import {
  mutatingConfiguration,
  mutatingWebhookConfigurations,
  validatingConfiguration,
  validatingWebhookConfigurations,
  webhookPaths,
  type ConfigurationOptions,
} from "./configurations.ts";
import { startWebhookServer, type Route, type WebhookServer } from "./server.ts";
import { mutateWorkspace, validateWorkspace } from "./workspace.ts";
import { webhookRequests } from "./metrics.ts";

export type { CaBundleTarget } from "./ca-bundle.ts";
export { webhookConfigurationTargets } from "./ca-bundle.ts";
export * from "./configurations.ts";
export type { Route, WebhookServer } from "./server.ts";
export { startWebhookServer } from "./server.ts";
export { generateServingCertificates, type ServingCertificates } from "./certs.ts";
export * from "./admission.ts";
export {
  chatApiVersion,
  defaultRuntimeFor,
  mutateWorkspace,
  presetNameProblem,
  validateWorkspace,
  workspaceProblems,
} from "./workspace.ts";

/** The routes every webhook server serves. */
export function workspaceRoutes(): Record<string, Route> {
  return {
    [webhookPaths.mutate]: { kind: "admission", handle: mutateWorkspace },
    [webhookPaths.validate]: { kind: "admission", handle: validateWorkspace },
  };
}

/**
 * How the API server finds the server.
 * - `service` (in the cluster, deploy/manager): deploy/ ships the configurations pointing at the
 *   Service; the certificates live in a Secret in the manager's namespace; the leader patches the
 *   CA into the configurations (and any extra targets).
 * - `url` (`kaito up`, tests): this process makes certificates for its listen address, creates
 *   the configurations with that URL and CA, and deletes them when it stops. `namespaceLabels`
 *   scopes them to labelled namespaces, so a registration that outlives a crashed test run
 *   touches only that run's namespaces.
 */
export type WebhookRegistration =
  | {
      mode: "service";
      namespace: string;
      serviceName: string;
      secretName: string;
      configurationName: string;
      /** More objects whose caBundle must name the CA (a CRD's conversion webhook). */
      extraTargets?: CaBundleTarget[];
    }
  | { mode: "url"; configurationName: string; namespaceLabels?: Record<string, string> };

export interface WebhookComponentOptions {
  client: KubeClient;
  clock: Clock;
  log: Logger;
  host: string;
  port: number;
  registration: WebhookRegistration;
  /** Routes to serve beside the Workspace ones. */
  extraRoutes?: Record<string, Route>;
  /** How often replicas re-read the Secret and the leader re-checks caBundles. Default 10 min. */
  refreshMs?: number;
  /** Where kaito_webhook_requests_total goes. */
  registry?: Registry;
}

export interface WebhookComponent {
  /** Runs on every replica: serves, and in url mode registers. */
  serve: Runnable;
  /** Runs on the leader in service mode: renews the Secret and patches caBundles. */
  caBundles?: Runnable;
  /** Undefined once serving, else why not (a readiness check). */
  notReady(): string | undefined;
  /** The server's URL once serving (tests). */
  url(): string | undefined;
}

export function webhookComponent(o: WebhookComponentOptions): WebhookComponent {
  const refreshMs = o.refreshMs ?? 600_000;
  const routes = { ...workspaceRoutes(), ...o.extraRoutes };
  const requests = o.registry && webhookRequests(o.registry, [...Object.keys(routes), "other"]);
  const serverOptions = {
    ...o,
    routes,
    onResult: requests && ((path: string, outcome: string) => requests.inc({ path, outcome })),
  };
  let server: WebhookServer | undefined;
  let registered = o.registration.mode !== "url";
  const reg = o.registration;

  const serve: Runnable = {
    name: "admission-webhook",
    needsLeaderElection: false,
    async start(signal) {
      if (reg.mode === "url") {
        // The API server dials the address the server listens on; a wildcard is reached on loopback.
        const host = o.host === "0.0.0.0" || o.host === "" ? "127.0.0.1" : o.host;
        const certs = generateServingCertificates({
          dnsNames: isIP(host) ? ["localhost"] : [host],
          ipAddresses: isIP(host) ? [host] : [],
          now: o.clock.now(),
        });
        server = await startWebhookServer({ ...serverOptions, cert: certs.cert, key: certs.key });
        const config: ConfigurationOptions = {
          name: reg.configurationName,
          endpoint: { url: `https://${isIP(host) === 6 ? `[${host}]` : host}:${server.port}` },
          caBundle: certs.caCert,
          failurePolicy: "Fail",
          namespaceLabels: reg.namespaceLabels,
          labels: { "app.kubernetes.io/name": "kaito-ts" },
        };
        try {
          for (const [resource, obj] of [
            [mutatingWebhookConfigurations, mutatingConfiguration(config)],
            [validatingWebhookConfigurations, validatingConfiguration(config)],
          ] as const) {
            await o.client.patch(resource, obj.metadata!.name!, undefined, obj, "apply", {
              fieldManager: "kaito-webhook",
              force: true,
            });
          }
          registered = true;
          o.log.info("admission webhook registered", {
            url: server.url,
            configuration: reg.configurationName,
          });
          await untilAbort(signal);
        } finally {
          registered = false;
          // Gone with this process: a webhook with failurePolicy Fail and nobody serving it would
          // refuse every Workspace.
          for (const resource of [mutatingWebhookConfigurations, validatingWebhookConfigurations])
            await o.client.delete(resource, reg.configurationName).catch((e: unknown) => {
              try {
                ignoreNotFound(e);
              } catch {
                o.log.warn("could not delete the webhook configuration", {
                  configuration: reg.configurationName,
                  error: errorMessage(e),
                });
              }
            });
          await server.close();
          server = undefined;
        }
        return;
      }
      const request = serviceCertificateRequest(reg, o.clock);
      let certs = await retrying(signal, o, "read the webhook's certificate Secret", () =>
        loadServingSecret(o.client, reg.namespace, reg.secretName, request, false),
      );
      if (!certs) return;
      server = await startWebhookServer({ ...serverOptions, cert: certs.cert, key: certs.key });
      o.log.info("admission webhook listening", { url: server.url });
      try {
        while (!signal.aborted) {
          await o.clock.sleep(refreshMs, signal).catch(() => undefined);
          if (signal.aborted) break;
          try {
            const next = await loadServingSecret(o.client, reg.namespace, reg.secretName, request, false);
            if (next.cert !== certs.cert) {
              server.setCertificate(next.cert, next.key);
              certs = next;
              o.log.info("admission webhook certificate reloaded");
            }
          } catch (e) {
            o.log.warn("could not re-read the webhook's certificate Secret", { error: errorMessage(e) });
          }
        }
      } finally {
        await server.close();
        server = undefined;
      }
    },
  };

  const caBundles: Runnable | undefined =
    reg.mode === "service"
      ? {
          name: "webhook-ca-bundles",
          needsLeaderElection: true,
          async start(signal) {
            const targets = [
              ...webhookConfigurationTargets(reg.configurationName),
              ...(reg.extraTargets ?? []),
            ];
            while (!signal.aborted) {
              try {
                const certs = await loadServingSecret(
                  o.client,
                  reg.namespace,
                  reg.secretName,
                  serviceCertificateRequest(reg, o.clock),
                  true,
                );
                // A renewed certificate is served here at once; other replicas reload it.
                server?.setCertificate(certs.cert, certs.key);
                const missing = await patchCaBundles(o.client, targets, certs.caCert);
                if (missing.length)
                  o.log.warn("webhook configurations are missing; apply deploy/manager to register them", {
                    missing,
                  });
              } catch (e) {
                o.log.warn("could not update the webhook's caBundles; retrying", { error: errorMessage(e) });
                await o.clock.sleep(10_000, signal).catch(() => undefined);
                continue;
              }
              await o.clock.sleep(refreshMs, signal).catch(() => undefined);
            }
          },
        }
      : undefined;

  return {
    serve,
    caBundles,
    notReady: () =>
      server === undefined
        ? "the admission webhook is not serving yet"
        : registered
          ? undefined
          : "the admission webhook is not registered yet",
    url: () => server?.url,
  };
}

/** The names the in-cluster serving certificate covers: the Service's DNS names. */
function serviceCertificateRequest(reg: Extract<WebhookRegistration, { mode: "service" }>, clock: Clock) {
  const svc = `${reg.serviceName}.${reg.namespace}`;
  return { dnsNames: [`${svc}.svc`, `${svc}.svc.cluster.local`, svc, reg.serviceName], now: clock.now() };
}

function untilAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** Retries `fn` every 5 s until it succeeds or the signal aborts (then undefined). */
async function retrying<T>(
  signal: AbortSignal,
  o: { clock: Clock; log: Logger },
  what: string,
  fn: () => Promise<T>,
): Promise<T | undefined> {
  while (!signal.aborted) {
    try {
      return await fn();
    } catch (e) {
      o.log.warn(`could not ${what}; retrying`, { error: errorMessage(e) });
      await o.clock.sleep(5_000, signal).catch(() => undefined);
    }
  }
  return undefined;
}
