import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { QueueObserver } from "./queue.ts";

export type ReconcileOutcome = "success" | "error" | "requeue_after" | "terminal_error";

/**
 * The controller plumbing's metrics, under controller-runtime's names so existing dashboards
 * work, plus kaito_reconcile_duration_seconds. Created once per registry; controllers are labels.
 */
export class RuntimeMetrics {
  readonly reconcileTotal: Counter<"controller" | "result">;
  readonly reconcileErrors: Counter<"controller">;
  readonly reconcileTime: Histogram<"controller">;
  readonly kaitoReconcileDuration: Histogram<"controller">;
  readonly activeWorkers: Gauge<"controller">;
  readonly queueDepth: Gauge<"name">;
  readonly queueAdds: Counter<"name">;
  readonly queueRetries: Counter<"name">;
  readonly queueWait: Histogram<"name">;

  constructor(registry: Registry) {
    const registers = [registry];
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Reconciliations per controller and result.",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Reconciliations that returned an error.",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Time per reconciliation.",
      labelNames: ["controller"],
      buckets,
      registers,
    });
    this.kaitoReconcileDuration = new Histogram({
      name: "kaito_reconcile_duration_seconds",
      help: "Time per reconciliation of a kaito-ts controller.",
      labelNames: ["controller"],
      buckets,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Workers currently reconciling.",
      labelNames: ["controller"],
      registers,
    });
    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Keys waiting in the queue.",
      labelNames: ["name"],
      registers,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Adds to the queue.",
      labelNames: ["name"],
      registers,
    });
    this.queueRetries = new Counter({
      name: "workqueue_retries_total",
      help: "Rate-limited re-adds.",
      labelNames: ["name"],
      registers,
    });
    this.queueWait = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "Time a key waits in the queue before a worker takes it.",
      labelNames: ["name"],
      buckets,
      registers,
    });
  }

  queueObserver(name: string): QueueObserver {
    return {
      added: () => this.queueAdds.inc({ name }),
      depth: (d) => this.queueDepth.set({ name }, d),
      waited: (ms) => this.queueWait.observe({ name }, ms / 1000),
      retried: () => this.queueRetries.inc({ name }),
    };
  }

  observeReconcile(controller: string, outcome: ReconcileOutcome, seconds: number): void {
    this.reconcileTotal.inc({ controller, result: outcome });
    if (outcome === "error" || outcome === "terminal_error") this.reconcileErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, seconds);
    this.kaitoReconcileDuration.observe({ controller }, seconds);
  }
}
