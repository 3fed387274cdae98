import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import type { CallOptions, KubeObject } from "../client.ts";
import { KubeApiError } from "../errors.ts";
import type { Resource } from "../resources.ts";
import { LeaseFence } from "./fence.ts";
import { LeaderElector, isLeadershipLost, leaderTimingProblem } from "./leader.ts";

const flush = () => new Promise<void>((r) => setImmediate(r));

interface Lease extends KubeObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number };
}

/** One Lease in memory with resourceVersion checks; `hang` makes calls wait for their signal. */
class LeaseStore {
  lease: Lease | undefined;
  private rv = 0;
  hang = false;
  updates = 0;
  signals: (AbortSignal | undefined)[] = [];

  private wait<T>(o: CallOptions, value: () => T): Promise<T> {
    this.signals.push(o.signal);
    if (!this.hang) return Promise.resolve().then(value);
    return new Promise((_, reject) =>
      o.signal?.addEventListener("abort", () => reject(o.signal!.reason), { once: true }),
    );
  }
  private err(statusCode: number, reason: KubeApiError["reason"]) {
    return new KubeApiError({ statusCode, reason, message: reason, method: "X", path: "lease" });
  }
  client = {
    get: <T extends KubeObject>(_r: Resource, _n: string, _ns?: string, o: CallOptions = {}) =>
      this.wait(o, () => {
        if (!this.lease) throw this.err(404, "NotFound");
        return structuredClone(this.lease) as unknown as T;
      }),
    create: <T extends KubeObject>(_r: Resource, obj: T, o: CallOptions = {}) =>
      this.wait(o, () => {
        if (this.lease) throw this.err(409, "AlreadyExists");
        this.lease = {
          ...structuredClone(obj),
          metadata: { ...obj.metadata, resourceVersion: String(++this.rv) },
        };
        return obj;
      }),
    update: <T extends KubeObject>(_r: Resource, obj: T, o: CallOptions = {}) =>
      this.wait(o, () => {
        if (obj.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
          throw this.err(409, "Conflict");
        this.updates++;
        this.lease = {
          ...structuredClone(obj),
          metadata: { ...obj.metadata, resourceVersion: String(++this.rv) },
        };
        return obj;
      }),
  };
  /** Another candidate takes the lease. */
  steal(identity: string): void {
    this.lease = {
      ...this.lease,
      metadata: { ...this.lease?.metadata, resourceVersion: String(++this.rv) },
      spec: { holderIdentity: identity, leaseDurationSeconds: 4 },
    };
  }
}

function elector(store: LeaseStore, clock: FakeClock) {
  const fence = new LeaseFence(clock, 3_000);
  const e = new LeaderElector({
    client: store.client,
    namespace: "ns",
    name: "lock",
    identity: "me",
    leaseDurationMs: 4_000,
    renewDeadlineMs: 3_000,
    retryPeriodMs: 1_000,
    fence,
    clock,
    random: () => 0,
  });
  return { e, fence };
}

describe("LeaderElector", () => {
  it("enforces client-go's timing contract", () => {
    expect(
      leaderTimingProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).toBe(undefined);
    expect(
      leaderTimingProblem({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).toMatch(/lease duration .* greater than the renew deadline/);
    expect(
      leaderTimingProblem({ leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }),
    ).toMatch(/renew deadline .* greater than 1.2 x the retry period/);
    expect(
      () =>
        new LeaderElector({
          client: new LeaseStore().client,
          namespace: "n",
          name: "l",
          identity: "i",
          leaseDurationMs: 1_000,
        }),
    ).toThrow(/invalid leader election timing/);
  });

  it("stops leading at the renew deadline when renewals hang: the attempt is aborted and writes are fenced", async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const { e, fence } = elector(store, clock);
    let leading: AbortSignal | undefined;
    const outcome = e
      .run(new AbortController().signal, async (s) => {
        leading = s;
        await new Promise((r) => s.addEventListener("abort", r, { once: true }));
      })
      .then(
        () => "resolved",
        (err: unknown) => err,
      );
    await flush();
    expect(leading?.aborted).toBe(false);
    expect(fence.mayWrite()).toBe(true);
    // One renewal goes through at 1 s; then the API server stops answering.
    clock.step(1_000);
    await flush();
    expect(store.updates).toBe(1);
    store.hang = true;
    clock.step(1_000); // the 2 s renewal starts and hangs
    await flush();
    const hung = store.signals.at(-1)!;
    expect(hung.aborted).toBe(false);
    // The deadline is 3 s after the last renewal *sent* (at 1 s): at 3.999 s still leading.
    clock.step(1_999);
    await flush();
    expect(leading!.aborted).toBe(false);
    expect(fence.mayWrite()).toBe(true);
    clock.step(1);
    await flush();
    expect(leading!.aborted).toBe(true);
    expect(hung.aborted).toBe(true);
    expect(fence.mayWrite()).toBe(false);
    const err = await outcome;
    expect(isLeadershipLost(err)).toBe(true);
    expect((err as Error).message).toMatch(/renew deadline \(3 s\)/);
    // Lost, not stopped: it does not try to release a lease it may no longer hold.
    expect(store.updates).toBe(1);
  });

  it("stops at once when it sees another holder", async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    const { e, fence } = elector(store, clock);
    const outcome = e
      .run(new AbortController().signal, (s) => new Promise((r) => s.addEventListener("abort", () => r())))
      .catch((x: unknown) => x);
    await flush();
    store.steal("rival");
    clock.step(1_000);
    await flush();
    expect(isLeadershipLost(await outcome)).toBe(true);
    expect(fence.mayWrite()).toBe(false);
  });

  it("waits a lease duration unchanged before taking a held lease, and releases it on a clean stop", async () => {
    const clock = new FakeClock();
    const store = new LeaseStore();
    store.steal("other");
    const { e, fence } = elector(store, clock);
    const stop = new AbortController();
    let led = false;
    const running = e.run(stop.signal, async (s) => {
      led = true;
      await new Promise((r) => s.addEventListener("abort", r, { once: true }));
    });
    await flush();
    clock.step(3_000);
    await flush();
    expect(led).toBe(false);
    // A candidate may write meanwhile: only a manager that led is fenced.
    expect(fence.mayWrite()).toBe(true);
    for (let i = 0; i < 3 && !led; i++) {
      clock.step(1_000);
      await flush();
    }
    expect(led).toBe(true);
    expect(store.lease?.spec?.holderIdentity).toBe("me");
    stop.abort();
    await running;
    expect(store.lease?.spec?.holderIdentity).toBe("");
    expect(fence.mayWrite()).toBe(false);
  });
});
