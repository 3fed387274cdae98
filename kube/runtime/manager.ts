import { Registry, collectDefaultMetrics } from "prom-client";
import { untilAborted } from "../../lib/abort.ts";
import { systemClock, type Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { KubeClient, KubeObject } from "../client.ts";
import { fencePolicy } from "../http/policies/fence.ts";
import { RestClientMetrics } from "../http/metrics.ts";
import { Informer, type ObjectTransform } from "../informer.ts";
import type { Resource } from "../resources.ts";
import type { Controller } from "./controller.ts";
import { LeaseFence } from "./fence.ts";
import { LeaderElector, defaultLeaderTiming, type LeaderTiming } from "./leader.ts";
import { RuntimeMetrics } from "./metrics.ts";
import { withAuthentication, type ReviewFn } from "../auth/http.ts";
import {
  healthHandler,
  listen,
  metricsHandler,
  type HealthCheck,
  type ListeningServer,
  type ServingTls,
} from "./servers.ts";

/** Something the manager runs until shutdown, e.g. the extender's or the planner's server. */
export interface Runnable {
  name: string;
  /** Resolves when the runnable has stopped after the signal aborted. */
  start(signal: AbortSignal): Promise<void>;
  /** When true it runs only on the elected leader (controllers); otherwise on every replica. */
  needsLeaderElection: boolean;
}

export interface ManagerOptions {
  client: KubeClient;
  registry?: Registry;
  clock?: Clock;
  log?: Logger;
  /** host:port of /metrics; undefined disables it. */
  metricsAddress?: string;
  /**
   * Who may read /metrics: with it, only callers whose bearer token the review allows `get` on
   * the path (DelegatedAuth); without it, anyone who reaches the port (loopback, `kaito up`).
   * The health probes stay open either way: the kubelet sends no token.
   */
  metricsAuth?: ReviewFn;
  /** Serve /metrics over HTTPS with this certificate (so the callers' tokens are not sent in clear). */
  metricsTls?: ServingTls;
  /** host:port of /healthz and /readyz; undefined disables it. */
  healthAddress?: string;
  leaderElection?: {
    namespace: string;
    name: string;
    identity: string;
  } & Partial<LeaderTiming>;
  /** How long shutdown, or the loss of leadership, waits for runnables to drain (default 10 s). */
  gracefulShutdownMs?: number;
}

/** Which objects an informer holds: the API server's selectors, then a transform of our own. */
export interface InformerScope {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  transform?: ObjectTransform;
  /**
   * Run it on every replica, not only on the leader: for caches that something running everywhere
   * (the extender) reads. Any one request for it decides.
   */
  everyReplica?: boolean;
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  return { host: address.slice(0, i) || "0.0.0.0", port: Number(address.slice(i + 1)) };
}

/**
 * Owns the process plumbing shared by every controller: one informer per watched resource and
 * scope, the metrics registry, health and metrics endpoints, leader election, and ordered
 * shutdown.
 *
 * With leader election, `client` is fenced: once this manager has led, it writes only while its
 * lease is renewed in time (LeaseFence). When leadership is lost, the leader's runnables stop, the
 * whole manager shuts down within the graceful period and start() rejects with
 * LeadershipLostError: the process exits and its Deployment starts a fresh candidate, as
 * controller-runtime does.
 */
export class Manager {
  /** The client every component writes through (fenced under leader election). */
  readonly client: KubeClient;
  readonly registry: Registry;
  readonly metrics: RuntimeMetrics;
  readonly clock: Clock;
  readonly log: Logger;
  readonly fence: LeaseFence | undefined;
  private readonly o: ManagerOptions;
  private readonly informers = new Map<string, { informer: Informer<KubeObject>; everyReplica: boolean }>();
  private readonly runnables: Runnable[] = [];
  private readonly readiness = new Map<string, HealthCheck>();
  private servers: ListeningServer[] = [];
  private leading = false;

  constructor(options: ManagerOptions) {
    this.o = options;
    this.registry = options.registry ?? new Registry();
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.metrics = new RuntimeMetrics(this.registry);
    new RestClientMetrics(this.registry).attach(options.client);
    const renewDeadlineMs = options.leaderElection?.renewDeadlineMs ?? defaultLeaderTiming.renewDeadlineMs;
    this.fence = options.leaderElection ? new LeaseFence(this.clock, renewDeadlineMs) : undefined;
    this.client = this.fence ? options.client.withPolicies(fencePolicy(this.fence)) : options.client;
  }

  /**
   * What the caches hold, one `group/version/plural|namespace|labels|fields|transform` per
   * informer: a component that asked for a resource without a scope shows as a bare line.
   */
  informerScopes(): string[] {
    return [...this.informers.keys()].sort();
  }

  /** The shared informer for a resource and scope, created on first use. */
  informer<T extends KubeObject>(resource: Resource, scope: InformerScope = {}): Informer<T> {
    const key = [
      `${resource.group}/${resource.version}/${resource.plural}`,
      scope.namespace ?? "",
      scope.labelSelector ?? "",
      scope.fieldSelector ?? "",
      scope.transform?.name ?? "",
    ].join("|");
    let entry = this.informers.get(key);
    if (!entry) {
      entry = {
        everyReplica: false,
        informer: new Informer<KubeObject>({
          client: this.client,
          resource,
          namespace: scope.namespace,
          labelSelector: scope.labelSelector,
          fieldSelector: scope.fieldSelector,
          transform: scope.transform,
          clock: this.clock,
          log: this.log.with({ component: "informer" }),
        }),
      };
      this.informers.set(key, entry);
    }
    if (scope.everyReplica) entry.everyReplica = true;
    return entry.informer as unknown as Informer<T>;
  }

  addController(c: Pick<Controller<KubeObject>, "name" | "start">): void {
    if (this.runnables.some((r) => r.name === c.name))
      throw new Error(`a controller named ${c.name} is already registered`);
    this.runnables.push({ name: c.name, needsLeaderElection: true, start: (signal) => c.start(signal) });
  }

  add(runnable: Runnable): void {
    if (this.runnables.some((r) => r.name === runnable.name))
      throw new Error(`a runnable named ${runnable.name} is already registered`);
    this.runnables.push(runnable);
  }

  /** A readiness check for /readyz: returns a problem, or undefined when ready. */
  addReadyCheck(name: string, check: HealthCheck): void {
    this.readiness.set(name, check);
  }

  /** Addresses the servers actually bound (useful with port 0). */
  ports(): number[] {
    return this.servers.map((s) => s.port);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Runs everything until the signal aborts, then shuts down in order and resolves. Rejects with
   * LeadershipLostError when this manager led and lost its lease, after stopping everything.
   */
  async start(signal: AbortSignal): Promise<void> {
    collectDefaultMetrics({ register: this.registry, prefix: "kaito_process_" });
    const everyReplica = [...this.informers.values()].filter((e) => e.everyReplica).map((e) => e.informer);
    const leaderOnly = [...this.informers.values()].filter((e) => !e.everyReplica).map((e) => e.informer);
    this.readiness.set("informers", () => {
      const expected =
        this.leading || !this.o.leaderElection ? [...everyReplica, ...leaderOnly] : everyReplica;
      const pending = expected.filter((i) => !i.hasSynced()).map((i) => i.resource.plural);
      return pending.length ? `not synced: ${pending.join(", ")}` : undefined;
    });
    if (this.o.metricsAddress !== undefined) {
      const { host, port } = splitAddress(this.o.metricsAddress);
      const handler = metricsHandler(this.registry);
      const guarded = this.o.metricsAuth ? withAuthentication(handler, this.o.metricsAuth) : handler;
      this.servers.push(await listen(guarded, port, host, "metrics server", this.o.metricsTls));
    }
    if (this.o.healthAddress !== undefined) {
      const { host, port } = splitAddress(this.o.healthAddress);
      this.servers.push(await listen(healthHandler(this.readiness), port, host, "health probe server"));
    }
    // Everything stops on the caller's signal or on the loss of leadership.
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    // A runnable on every replica that fails (a port taken) stops the manager with its error.
    let failure: { error: unknown } | undefined;
    const background = Promise.all([
      ...everyReplica.map((i) => i.start(stop.signal)),
      ...this.runnables.filter((r) => !r.needsLeaderElection).map((r) => this.run(r, stop.signal)),
    ]).catch((e: unknown) => {
      failure ??= { error: e };
      stop.abort(e);
    });
    const lead = (leading: AbortSignal) => this.lead(leading, leaderOnly);
    try {
      if (this.o.leaderElection) {
        const elector = new LeaderElector({
          client: this.client,
          ...this.o.leaderElection,
          fence: this.fence,
          clock: this.clock,
          log: this.log.with({ component: "leader-election" }),
        });
        await elector.run(stop.signal, lead);
      } else {
        await lead(stop.signal);
      }
    } finally {
      stop.abort(new Error("manager stopping"));
      signal.removeEventListener("abort", onAbort);
      await this.drained(background, "runnables on every replica");
      await Promise.all(this.servers.map((s) => s.close()));
      this.servers = [];
    }
    if (failure) throw failure.error;
  }

  /** The leader's work: its informers and runnables, until `leading` aborts and they drain. */
  private async lead(leading: AbortSignal, informers: Informer<KubeObject>[]): Promise<void> {
    this.leading = true;
    try {
      const work = Promise.all([
        ...informers.map((i) => i.start(leading)),
        ...this.runnables.filter((r) => r.needsLeaderElection).map((r) => this.run(r, leading)),
      ]);
      // Leadership lasts until the signal aborts, even with nothing to run on the leader (an
      // extender-only manager); a runnable that fails ends it at once.
      const aborted = untilAborted(leading);
      await Promise.race([work.then(() => aborted), aborted]);
      await this.drained(work, "the leader's runnables");
    } finally {
      this.leading = false;
    }
  }

  /**
   * Waits for `work` up to the graceful period; past it, stops waiting (the process exits anyway,
   * and a runnable stuck on a call cannot write: the fence refuses).
   */
  private async drained(work: Promise<unknown>, what: string): Promise<void> {
    const graceMs = this.o.gracefulShutdownMs ?? 10_000;
    let cancel = () => {};
    const timedOut = new Promise<"timeout">(
      (r) => (cancel = this.clock.schedule(graceMs, () => r("timeout"))),
    );
    try {
      if ((await Promise.race([work.then(() => "done" as const), timedOut])) === "timeout")
        this.log.warn(`${what} did not stop within ${graceMs / 1000} s; going on without them`);
    } finally {
      cancel();
    }
  }

  private async run(r: Runnable, signal: AbortSignal): Promise<void> {
    try {
      await r.start(signal);
    } catch (e) {
      this.log.error("runnable failed", { runnable: r.name, error: errorMessage(e) });
      throw e;
    }
  }
}
