import { systemClock, type Clock } from "../../lib/clock.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { CallOptions, KubeClient, KubeObject } from "../client.ts";
import { isAlreadyExists, isConflict, isNotFound } from "../errors.ts";
import { resources } from "../resources.ts";
import { LeaseFence } from "./fence.ts";

interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** client-go's three durations (tools/leaderelection/leaderelection.go, LeaderElectionConfig). */
export interface LeaderTiming {
  /** How long rivals wait, from the last change they saw, before they take the lease. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it stops acting. */
  renewDeadlineMs: number;
  /** Between attempts. */
  retryPeriodMs: number;
}

/** client-go's and controller-runtime's defaults. */
export const defaultLeaderTiming: LeaderTiming = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's JitterFactor: a candidate waits up to (1 + 1.2) retry periods between attempts. */
export const jitterFactor = 1.2;

/**
 * The timing contract client-go's NewLeaderElector enforces: leaseDuration > renewDeadline >
 * jitterFactor x retryPeriod > 0. A leader that cannot renew stops at the renew deadline, and the
 * gap up to the lease duration is its time to stop before a rival may start. Returns the problem
 * as a sentence, or undefined.
 */
export function leaderTimingProblem(t: LeaderTiming): string | undefined {
  if (!(t.retryPeriodMs > 0)) return "the retry period must be greater than zero";
  if (!(t.renewDeadlineMs > jitterFactor * t.retryPeriodMs))
    return `the renew deadline (${t.renewDeadlineMs / 1000} s) must be greater than ${jitterFactor} x the retry period (${t.retryPeriodMs / 1000} s)`;
  if (!(t.leaseDurationMs > t.renewDeadlineMs))
    return `the lease duration (${t.leaseDurationMs / 1000} s) must be greater than the renew deadline (${t.renewDeadlineMs / 1000} s)`;
  return undefined;
}

/** This process led and no longer does: it could not renew in time, or saw another holder. */
export class LeadershipLostError extends Error {
  override readonly name = "LeadershipLostError";
  readonly code = "LeadershipLost";
}

export function isLeadershipLost(e: unknown): e is LeadershipLostError {
  return e instanceof LeadershipLostError || (e instanceof Error && e.name === "LeadershipLostError");
}

export interface LeaderElectionOptions extends Partial<LeaderTiming> {
  client: Pick<KubeClient, "get" | "create" | "update">;
  namespace: string;
  name: string;
  identity: string;
  /** Told of every renewal; the client's write fence reads it. Default: one of its own. */
  fence?: LeaseFence;
  clock?: Clock;
  log?: Logger;
  random?: () => number;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

type Attempt = "ours" | "theirs" | "failed";

/**
 * Leader election on a coordination.k8s.io Lease, with client-go's timing contract. A candidate
 * takes the lease when it is free or has not changed for a lease duration (judged on its own
 * clock, so skew between machines does not matter); the leader renews every retry period. Every
 * attempt, and the leadership itself, is bounded by the renew deadline after the last renewal
 * sent: at that moment the leader's signal aborts, its fence refuses writes, and run() rejects
 * with LeadershipLostError, a lease duration's margin before a rival can take over. Seeing
 * another holder ends leadership at once. Writes carry the lease's resourceVersion, so two
 * candidates cannot both win one round.
 */
export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, "fence">>;
  readonly fence: LeaseFence;
  /** When we last saw the lease change (our clock), per observed resourceVersion. */
  private observed: { resourceVersion?: string; at: number } = { at: 0 };

  constructor(options: LeaderElectionOptions) {
    this.o = {
      ...defaultLeaderTiming,
      clock: systemClock,
      log: silentLogger,
      random: Math.random,
      ...options,
    };
    const problem = leaderTimingProblem(this.o);
    if (problem) throw new Error(`invalid leader election timing: ${problem}`);
    this.fence = options.fence ?? new LeaseFence(this.o.clock, this.o.renewDeadlineMs);
  }

  /**
   * Waits until this candidate leads, then calls `lead` with a signal that aborts when leadership
   * ends or `signal` aborts. Resolves after a clean stop (the lease released); rejects with
   * LeadershipLostError, once `lead` has returned, when leadership was lost.
   */
  async run(signal: AbortSignal, lead: (leading: AbortSignal) => Promise<void>): Promise<void> {
    const { clock, retryPeriodMs, renewDeadlineMs } = this.o;
    while (!signal.aborted) {
      const sentAt = clock.now();
      if ((await this.tryAcquireOrRenew({ signal, timeoutMs: renewDeadlineMs })) === "ours") {
        this.fence.renewed(sentAt);
        break;
      }
      const wait = retryPeriodMs * (1 + this.o.random() * jitterFactor);
      await clock.sleep(wait, signal).catch(() => {});
    }
    if (signal.aborted) return;
    const lease = `${this.o.namespace}/${this.o.name}`;
    this.o.log.info("became leader", { lease, identity: this.o.identity });

    const leading = new AbortController();
    let lost: LeadershipLostError | undefined;
    const lose = (why: string) => {
      if (leading.signal.aborted) return;
      lost = new LeadershipLostError(`lost the lease ${lease}: ${why}`);
      this.fence.depose(why);
      this.o.log.error("lost leadership, stopping", { lease, identity: this.o.identity, reason: why });
      leading.abort(lost);
    };
    const stop = () => leading.abort(new Error("shutting down"));
    signal.addEventListener("abort", stop, { once: true });
    let cancelDeadline = () => {};
    const armDeadline = () => {
      cancelDeadline();
      const deadline = this.fence.deadline();
      if (deadline === undefined) return;
      cancelDeadline = clock.schedule(deadline - clock.now(), () =>
        lose(`no renewal succeeded within the renew deadline (${renewDeadlineMs / 1000} s)`),
      );
    };
    armDeadline();
    const renewing = this.renewLoop(leading.signal, armDeadline, lose);
    let failure: { error: unknown } | undefined;
    try {
      await lead(leading.signal);
    } catch (e) {
      failure = { error: e };
    } finally {
      if (!leading.signal.aborted) leading.abort(new Error("the leader's work ended"));
      cancelDeadline();
      signal.removeEventListener("abort", stop);
      await renewing;
      if (!lost) await this.release();
      this.fence.depose(lost ? lost.message : "leadership released");
    }
    // The loss is the news, whatever the leader's work made of its aborted signal.
    if (lost) throw lost;
    if (failure) throw failure.error;
  }

  private async renewLoop(
    leading: AbortSignal,
    renewed: () => void,
    lose: (why: string) => void,
  ): Promise<void> {
    const { clock, retryPeriodMs } = this.o;
    while (!leading.aborted) {
      await clock.sleep(retryPeriodMs, leading).catch(() => {});
      if (leading.aborted) return;
      const sentAt = clock.now();
      // The leading signal aborts at the renew deadline, and with it this attempt.
      const outcome = await this.tryAcquireOrRenew({ signal: leading });
      if (leading.aborted) return;
      if (outcome === "ours") {
        this.fence.renewed(sentAt);
        renewed();
      } else if (outcome === "theirs") {
        lose("another candidate holds the lease");
      }
    }
  }

  /** One attempt: "ours" when we hold the lease afterwards, "theirs" when someone else validly does. */
  async tryAcquireOrRenew(call: CallOptions = {}): Promise<Attempt> {
    const now = this.o.clock.now();
    const desired = (prev?: Lease["spec"]): Lease["spec"] => ({
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime:
        prev?.holderIdentity === this.o.identity && prev.acquireTime ? prev.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions:
        (prev?.leaseTransitions ?? 0) +
        (prev?.holderIdentity && prev.holderIdentity !== this.o.identity ? 1 : 0),
    });
    let lease: Lease;
    try {
      lease = await this.o.client.get<Lease>(resources.leases, this.o.name, this.o.namespace, call);
    } catch (e) {
      if (!isNotFound(e)) return this.failed("reading", e, call);
      try {
        await this.o.client.create<Lease>(
          resources.leases,
          {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: this.o.name, namespace: this.o.namespace },
            spec: desired(),
          },
          call,
        );
        return "ours";
      } catch (err) {
        return isAlreadyExists(err) ? "failed" : this.failed("creating", err, call);
      }
    }
    if (lease.metadata?.resourceVersion !== this.observed.resourceVersion) {
      this.observed = { resourceVersion: lease.metadata?.resourceVersion, at: now };
    }
    const holder = lease.spec?.holderIdentity;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    // Expiry is judged by how long *we* have seen the lease unchanged, not by the holder's
    // timestamps, so clock skew between candidates cannot cause two leaders.
    const expired = !holder || now - this.observed.at >= durationMs;
    if (holder !== this.o.identity && !expired) return "theirs";
    try {
      await this.o.client.update<Lease>(resources.leases, { ...lease, spec: desired(lease.spec) }, call);
      return "ours";
    } catch (e) {
      return isConflict(e) ? "failed" : this.failed("updating", e, call);
    }
  }

  /** Gives the lease up so a successor need not wait for it to expire. */
  private async release(): Promise<void> {
    try {
      const call = { timeoutMs: this.o.renewDeadlineMs };
      const lease = await this.o.client.get<Lease>(resources.leases, this.o.name, this.o.namespace, call);
      if (lease.spec?.holderIdentity !== this.o.identity) return;
      await this.o.client.update<Lease>(
        resources.leases,
        {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: "",
            leaseDurationSeconds: 1,
            renewTime: microTime(this.o.clock.now()),
          },
        },
        call,
      );
    } catch (e) {
      this.o.log.warn("could not release the lease", { error: errorMessage(e) });
    }
  }

  private failed(action: string, e: unknown, call: CallOptions): "failed" {
    // An attempt cut short by the end of leadership or a shutdown is no news of its own.
    if (!call.signal?.aborted)
      this.o.log.warn(`leader election: ${action} the lease failed`, { error: errorMessage(e) });
    return "failed";
  }
}
