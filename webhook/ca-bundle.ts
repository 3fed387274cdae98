import type { KubeClient, KubeObject } from "../kube/client.ts";
import type { Resource } from "../kube/resources.ts";
import { mutatingWebhookConfigurations, validatingWebhookConfigurations } from "./configurations.ts";

/**
 * An object whose caBundle must name the webhook's CA: `apply` sets it on a copy and says
 * whether anything changed. Webhook configurations are two targets; a CRD with a conversion
 * webhook (spec.conversion.webhook.clientConfig.caBundle) is one more of the same shape.
 */
export interface CaBundleTarget {
  resource: Resource;
  name: string;
  apply(obj: KubeObject, caBundleBase64: string): boolean;
}

function webhooksTarget(resource: Resource, name: string): CaBundleTarget {
  return {
    resource,
    name,
    apply(obj, ca) {
      let changed = false;
      for (const w of (obj as { webhooks?: { clientConfig?: { caBundle?: string } }[] }).webhooks ?? []) {
        w.clientConfig ??= {};
        if (w.clientConfig.caBundle !== ca) {
          w.clientConfig.caBundle = ca;
          changed = true;
        }
      }
      return changed;
    },
  };
}

/** The mutating and validating configurations named `name`. */
export function webhookConfigurationTargets(name: string): CaBundleTarget[] {
  return [
    webhooksTarget(mutatingWebhookConfigurations, name),
    webhooksTarget(validatingWebhookConfigurations, name),
  ];
}

/**
 * Writes the CA into each target that lacks it (read, set, replace with the read
 * resourceVersion). Returns the targets that do not exist, for the caller to report; a conflict
 * or another error throws, and the caller tries again later.
 */
export async function patchCaBundles(
  client: KubeClient,
  targets: readonly CaBundleTarget[],
  caCertPem: string,
): Promise<string[]> {
  const ca = Buffer.from(caCertPem).toString("base64");
  const missing: string[] = [];
  for (const t of targets) {
    let obj: KubeObject;
    try {
      obj = await client.get<KubeObject>(t.resource, t.name);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) {
        missing.push(`${t.resource.kind} ${t.name}`);
        continue;
      }
      throw e;
    }
    if (t.apply(obj, ca)) await client.update(t.resource, obj);
  }
  return missing;
}
