import { workspaceGroup, workspacePlural } from "../crds/index.ts";
import type { KubeObject } from "../kube/client.ts";
import type { Resource } from "../kube/resources.ts";

export const mutatingWebhookConfigurations: Resource = {
  group: "admissionregistration.k8s.io",
  version: "v1",
  plural: "mutatingwebhookconfigurations",
  kind: "MutatingWebhookConfiguration",
  namespaced: false,
};
export const validatingWebhookConfigurations: Resource = {
  group: "admissionregistration.k8s.io",
  version: "v1",
  plural: "validatingwebhookconfigurations",
  kind: "ValidatingWebhookConfiguration",
  namespaced: false,
};

/** The paths the webhook server answers on. A CRD conversion webhook would add /convert. */
export const webhookPaths = { mutate: "/mutate", validate: "/validate" } as const;

/** The names of the two webhooks inside their configurations. */
export const webhookNames = {
  mutate: "mutate.workspaces.kaito.sh",
  validate: "validate.workspaces.kaito.sh",
} as const;

/** How the API server reaches the server: a Service in the cluster, or a URL (kaito up, tests). */
export type ClientEndpoint = { service: { namespace: string; name: string; port: number } } | { url: string };

export interface ConfigurationOptions {
  /** Name of both configurations. */
  name: string;
  endpoint: ClientEndpoint;
  /** PEM CA the server's certificate chains to; empty leaves it for the manager to patch in. */
  caBundle?: string;
  /** Fail, as KAITO's webhooks: an unchecked Workspace is worse than a refused one. */
  failurePolicy?: "Fail" | "Ignore";
  /** Only namespaces with these labels (tests scope a registration to their own namespaces). */
  namespaceLabels?: Record<string, string>;
  labels?: Record<string, string>;
}

type WebhookConfiguration = KubeObject & { webhooks: Record<string, unknown>[] };

function clientConfig(o: ConfigurationOptions, path: string): Record<string, unknown> {
  const ca = o.caBundle ? { caBundle: Buffer.from(o.caBundle).toString("base64") } : {};
  if ("url" in o.endpoint) return { url: `${o.endpoint.url}${path}`, ...ca };
  return { service: { ...o.endpoint.service, path }, ...ca };
}

function webhook(o: ConfigurationOptions, name: string, path: string, operations: string[]) {
  return {
    name,
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: o.failurePolicy ?? "Fail",
    // Equivalent: a request through any version reaches us, and requestKind keeps the version
    // the user sent, which the runtime decision depends on.
    matchPolicy: "Equivalent",
    timeoutSeconds: 5,
    clientConfig: clientConfig(o, path),
    rules: [
      {
        apiGroups: [workspaceGroup],
        apiVersions: ["v1alpha1", "v1beta1"],
        operations,
        resources: [workspacePlural],
        scope: "Namespaced",
      },
    ],
    ...(o.namespaceLabels ? { namespaceSelector: { matchLabels: o.namespaceLabels } } : {}),
  };
}

/** The MutatingWebhookConfiguration: the runtime decision, on CREATE. */
export function mutatingConfiguration(o: ConfigurationOptions): WebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: o.name, ...(o.labels ? { labels: o.labels } : {}) },
    webhooks: [
      { ...webhook(o, webhookNames.mutate, webhookPaths.mutate, ["CREATE"]), reinvocationPolicy: "Never" },
    ],
  };
}

/** The ValidatingWebhookConfiguration: the catalogue's checks, on CREATE and UPDATE. */
export function validatingConfiguration(o: ConfigurationOptions): WebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: o.name, ...(o.labels ? { labels: o.labels } : {}) },
    webhooks: [webhook(o, webhookNames.validate, webhookPaths.validate, ["CREATE", "UPDATE"])],
  };
}
