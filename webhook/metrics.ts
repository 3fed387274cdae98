import { Counter, type Registry } from "prom-client";

/** How a webhook call ended: the label of kaito_webhook_requests_total. */
export const webhookOutcomes = ["allowed", "denied", "bad_request", "error"] as const;
export type WebhookOutcome = (typeof webhookOutcomes)[number];

/**
 * kaito_webhook_requests_total{path, outcome} on the given registry (reused on a second call).
 * `path` is one of the served routes or "other", so the label set stays bounded.
 */
export function webhookRequests(registry: Registry, paths: readonly string[]): Counter<"path" | "outcome"> {
  const name = "kaito_webhook_requests_total";
  const existing = registry.getSingleMetric(name) as Counter<"path" | "outcome"> | undefined;
  if (existing) return existing;
  const counter = new Counter({
    name,
    help: "Admission webhook calls answered, by path and outcome (allowed, denied, bad_request, error).",
    labelNames: ["path", "outcome"],
    registers: [registry],
  });
  // Every series exists from the start, so rate() sees the first refusal too.
  for (const path of paths) for (const outcome of webhookOutcomes) counter.inc({ path, outcome }, 0);
  return counter;
}
