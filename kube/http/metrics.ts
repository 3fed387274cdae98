import { Counter, Histogram, type Registry } from "prom-client";
import type { ClientObserver } from "../client.ts";

// client-go's names, labels and buckets (k8s.io/component-base/metrics/prometheus/restclient/
// metrics.go, registered through k8s.io/client-go/tools/metrics), so dashboards built for
// Kubernetes controllers read ours. Every label set is bounded: HTTP methods, status codes, and
// the one API server host.
const latencyBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

/** The kube client's request metrics on a registry; attach() it to every client to count. */
export class RestClientMetrics {
  readonly requests: Counter<"code" | "method" | "host">;
  readonly duration: Histogram<"verb" | "host">;
  readonly rateLimiterDuration: Histogram<"verb" | "host">;
  readonly retries: Counter<"code" | "verb" | "host">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.requests = new Counter({
      name: "rest_client_requests_total",
      help: "Number of HTTP requests, partitioned by status code, method, and host.",
      labelNames: ["code", "method", "host"],
      registers,
    });
    this.duration = new Histogram({
      name: "rest_client_request_duration_seconds",
      help: "Request latency in seconds. Broken down by verb, and host.",
      labelNames: ["verb", "host"],
      buckets: latencyBuckets,
      registers,
    });
    this.rateLimiterDuration = new Histogram({
      name: "rest_client_rate_limiter_duration_seconds",
      help: "Client side rate limiter latency in seconds. Broken down by verb, and host.",
      labelNames: ["verb", "host"],
      buckets: latencyBuckets,
      registers,
    });
    this.retries = new Counter({
      name: "rest_client_request_retries_total",
      help: "Number of request retries, partitioned by status code, verb, and host.",
      labelNames: ["code", "verb", "host"],
      registers,
    });
  }

  /** Counts what the client does from now on. */
  attach(client: { observe(observer: ClientObserver): void }): void {
    client.observe({
      attempt: ({ method, host, code, durationMs }) => {
        this.requests.inc({ code, method, host });
        this.duration.observe({ verb: method, host }, durationMs / 1000);
      },
      retried: ({ method, host, code }) => this.retries.inc({ code, verb: method, host }),
      rateLimited: ({ method, host, waitMs }) =>
        this.rateLimiterDuration.observe({ verb: method, host }, waitMs / 1000),
    });
  }
}
