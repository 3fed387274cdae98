import { Counter, Histogram, type Registry } from "prom-client";

export const extenderVerbs = ["filter", "prioritize", "bind"] as const;
export type ExtenderVerb = (typeof extenderVerbs)[number];

export interface ExtenderMetrics {
  requestDuration: Histogram<"verb">;
  requests: Counter<"verb" | "code">;
}

/** The extender's metrics on the given registry; a second call on the same registry reuses them. */
export function extenderMetrics(registry: Registry): ExtenderMetrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  const requestDuration =
    existing<Histogram<"verb">>("kaito_extender_request_duration_seconds") ?? newRequestDuration(registry);
  const requests =
    existing<Counter<"verb" | "code">>("kaito_extender_requests_total") ??
    new Counter({
      name: "kaito_extender_requests_total",
      help: "Extender calls answered, by verb and HTTP status code.",
      labelNames: ["verb", "code"],
      registers: [registry],
    });
  return { requestDuration, requests };
}

function newRequestDuration(registry: Registry): Histogram<"verb"> {
  const h = new Histogram({
    name: "kaito_extender_request_duration_seconds",
    help: "Time to answer one kube-scheduler extender call, by verb (filter, prioritize, bind).",
    labelNames: ["verb"],
    // Filter and prioritize must stay far below kube-scheduler's timeout; most answers take
    // well under a millisecond, so the buckets start there.
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  // Every verb's series exists from the start, so rate() counts kube-scheduler's first call too.
  for (const verb of extenderVerbs) h.zero({ verb });
  return h;
}
