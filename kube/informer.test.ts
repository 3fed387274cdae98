import { describe, expect, it } from "vitest";
import { FakeClock } from "../lib/clock.ts";
import type { KubeObject, ObjectList, WatchEvent } from "./client.ts";
import { KubeApiError } from "./errors.ts";
import { Informer, type InformerEvent, type ListWatcher } from "./informer.ts";
import { resources } from "./resources.ts";

const obj = (name: string, rv: string): KubeObject => ({
  metadata: { name, namespace: "ns", resourceVersion: rv },
});

type WatchScript = (emit: (e: WatchEvent<KubeObject>) => void, signal: AbortSignal) => Promise<void>;

/** A list/watch source driven by the test: each list returns the next snapshot, each watch runs the next script. */
function scripted(lists: KubeObject[][], watches: WatchScript[]) {
  const calls = { lists: 0, watches: [] as (string | undefined)[] };
  const source: ListWatcher = {
    async list<T extends KubeObject>(): Promise<ObjectList<T>> {
      const items = lists[Math.min(calls.lists++, lists.length - 1)]!;
      return { metadata: { resourceVersion: `list-${calls.lists}` }, items: items as T[] };
    },
    async watch<T>(
      _r: unknown,
      o: { resourceVersion?: string },
      onEvent: (e: WatchEvent<T>) => void,
      signal: AbortSignal,
    ) {
      calls.watches.push(o.resourceVersion);
      const script = watches.shift() ?? (() => new Promise<void>(() => {}));
      await script(onEvent as (e: WatchEvent<KubeObject>) => void, signal);
    },
  };
  return { source, calls };
}

const hang = (signal: AbortSignal) =>
  new Promise<void>((_, reject) =>
    signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
  );
const settle = () => new Promise((r) => setImmediate(r));

describe("Informer", () => {
  it("stops at once when aborted while its first list is in flight", async () => {
    let answer: (list: ObjectList<KubeObject>) => void = () => {};
    let watches = 0;
    const source: ListWatcher = {
      list: <T extends KubeObject>() =>
        new Promise<ObjectList<T>>((resolve) => (answer = resolve as (l: ObjectList<KubeObject>) => void)),
      async watch(_r, _o, _onEvent, signal) {
        watches++;
        await hang(signal);
      },
    };
    const informer = new Informer({ client: source, resource: resources.configMaps, clock: new FakeClock() });
    const abort = new AbortController();
    let stopped = false;
    void informer.start(abort.signal).then(() => (stopped = true));
    await settle();
    abort.abort();
    answer({ metadata: { resourceVersion: "1" }, items: [obj("a", "1")] });
    for (let i = 0; i < 10 && !stopped; i++) await settle();
    expect(stopped).toBe(true);
    expect(watches).toBe(0);
  });

  it("relists on 410 Gone and reports what disappeared meanwhile as deleted", async () => {
    const { source, calls } = scripted(
      [[obj("a", "1"), obj("b", "1")], [obj("b", "2")]],
      [
        async (emit) => {
          emit({
            type: "ERROR",
            object: { code: 410, reason: "Expired", message: "too old" } as unknown as KubeObject,
          });
        },
      ],
    );
    const informer = new Informer({ client: source, resource: resources.configMaps, clock: new FakeClock() });
    const events: InformerEvent<KubeObject>[] = [];
    informer.on((e) => events.push(e));
    const abort = new AbortController();
    void informer.start(abort.signal);
    for (let i = 0; i < 10 && calls.lists < 2; i++) await settle();
    await settle();
    expect(calls.lists).toBe(2);
    expect(informer.stats.relistsOnGone).toBe(1);
    expect(events.map((e) => `${e.type}:${e.object.metadata!.name}`)).toEqual([
      "added:a",
      "added:b",
      "deleted:a",
      "updated:b",
    ]);
    expect(calls.watches).toEqual(["list-1", "list-2"]);
    abort.abort();
  });

  it("resumes from the last resourceVersion, bookmarks included, when a watch ends", async () => {
    const { source, calls } = scripted(
      [[]],
      [
        async (emit) => {
          emit({ type: "ADDED", object: obj("a", "5") });
          emit({ type: "BOOKMARK", object: { metadata: { resourceVersion: "9" } } });
        },
      ],
    );
    const informer = new Informer({ client: source, resource: resources.configMaps, clock: new FakeClock() });
    const abort = new AbortController();
    void informer.start(abort.signal);
    for (let i = 0; i < 10 && calls.watches.length < 2; i++) await settle();
    expect(calls.watches).toEqual(["list-1", "9"]);
    expect(calls.lists).toBe(1);
    expect(informer.get("ns/a")?.metadata?.resourceVersion).toBe("5");
    abort.abort();
  });

  it("restarts a watch that goes silent once the watchdog fires", async () => {
    const clock = new FakeClock();
    const { source, calls } = scripted([[]], [(_emit, signal) => hang(signal)]);
    const informer = new Informer({
      client: source,
      resource: resources.configMaps,
      clock,
      watchdogMs: 60_000,
    });
    const abort = new AbortController();
    void informer.start(abort.signal);
    for (let i = 0; i < 5; i++) await settle();
    expect(calls.watches).toHaveLength(1);
    clock.step(59_999);
    await settle();
    expect(calls.watches).toHaveLength(1);
    clock.step(1);
    for (let i = 0; i < 5; i++) await settle();
    expect(informer.stats.watchdogRestarts).toBe(1);
    expect(calls.watches).toHaveLength(2);
    expect(calls.lists).toBe(1);
    abort.abort();
  });

  it("backs off after a failed watch instead of retrying in a tight loop", async () => {
    const clock = new FakeClock();
    const failure = async () => {
      throw new KubeApiError({
        statusCode: 503,
        reason: "Unknown",
        message: "unavailable",
        method: "WATCH",
        path: "x",
      });
    };
    const { source, calls } = scripted([[]], [failure, failure]);
    const informer = new Informer({ client: source, resource: resources.configMaps, clock, random: () => 1 });
    const abort = new AbortController();
    void informer.start(abort.signal);
    for (let i = 0; i < 5; i++) await settle();
    expect(calls.watches).toHaveLength(1);
    clock.step(199);
    await settle();
    expect(calls.watches).toHaveLength(1);
    clock.step(1); // first retry after 200 ms
    for (let i = 0; i < 5; i++) await settle();
    expect(calls.watches).toHaveLength(2);
    clock.step(399);
    await settle();
    expect(calls.watches).toHaveLength(2); // second retry waits twice as long
    clock.step(1);
    for (let i = 0; i < 5; i++) await settle();
    expect(calls.watches).toHaveLength(3);
    expect(informer.stats.errors).toBe(2);
    abort.abort();
  });

  it("keeps only what its transform passes: leaving the scope is a deletion, entering it an addition", async () => {
    const labelled = (name: string, rv: string, gpu: boolean): KubeObject => ({
      metadata: { name, namespace: "ns", resourceVersion: rv, labels: gpu ? { gpu: "yes" } : {} },
    });
    const { source, calls } = scripted(
      [[labelled("a", "1", true), labelled("b", "1", false)]],
      [
        async (emit) => {
          emit({ type: "MODIFIED", object: labelled("b", "2", true) });
          emit({ type: "MODIFIED", object: labelled("a", "2", false) });
          emit({ type: "ADDED", object: labelled("c", "3", false) });
          emit({ type: "DELETED", object: labelled("c", "4", false) });
          emit({ type: "DELETED", object: labelled("b", "5", true) });
        },
      ],
    );
    const seen: string[] = [];
    const informer = new Informer({
      client: source,
      resource: resources.pods,
      clock: new FakeClock(),
      transform: {
        name: "gpu-only",
        apply: (o) => {
          seen.push(o.metadata!.name!);
          return o.metadata?.labels?.gpu
            ? { metadata: { ...o.metadata, annotations: { trimmed: "yes" } } }
            : undefined;
        },
      },
    });
    const events: InformerEvent<KubeObject>[] = [];
    informer.on((e) => events.push(e));
    const abort = new AbortController();
    void informer.start(abort.signal);
    for (let i = 0; i < 10 && calls.watches.length < 2; i++) await settle();
    expect(events.map((e) => `${e.type}:${e.object.metadata!.name}`)).toEqual([
      "added:a",
      "added:b",
      "deleted:a",
      "deleted:b",
    ]);
    expect(events[0]!.object.metadata?.annotations).toEqual({ trimmed: "yes" });
    expect(informer.list()).toEqual([]);
    expect(seen).toContain("c");
    abort.abort();
  });
});
