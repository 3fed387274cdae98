import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log.ts";
import type { KubeClient } from "../../kube/client.ts";
import { KubeApiError } from "../../kube/errors.ts";
import { FakeCloudProvider } from "../cloud/fake/index.ts";
import type { Instance } from "../cloud/types.ts";
import { GarbageCollector, orphanCandidates } from "./garbagecollection.ts";

const instance = (machineName: string, createdAt: number): Instance => ({
  providerID: `fake://${machineName}`,
  machineName,
  instanceType: "S",
  zone: "z",
  capacity: {},
  labels: {},
  createdAt,
});

describe("garbage collection", () => {
  it("considers only instances past the grace period whose Machine is gone", () => {
    const now = 1_000_000;
    const instances = [instance("kept", 0), instance("orphan", 0), instance("young-orphan", now - 10_000)];
    const candidates = orphanCandidates(instances, (i) => i.machineName === "kept", now, 60_000);
    expect(candidates.map((i) => i.machineName)).toEqual(["orphan"]);
  });
});

describe("a garbage-collection sweep", () => {
  // No Machine exists for any instance: the API server answers 404 for every name.
  const client = {
    get: async (_: unknown, name: string) => {
      throw new KubeApiError({
        statusCode: 404,
        reason: "NotFound",
        message: `${name} not found`,
        method: "GET",
        path: name,
      });
    },
  } as unknown as KubeClient;

  async function setup() {
    const clock = new FakeClock();
    const cloud = new FakeCloudProvider({ clock });
    for (const name of ["a", "b"]) await cloud.create({ metadata: { name }, spec: {} } as never);
    clock.step(120_000);
    return { cloud, gc: new GarbageCollector({ client, cloud, clock, log: silentLogger }) };
  }

  it("deletes old instances without a Machine, with the sweep's signal", async () => {
    const { cloud, gc } = await setup();
    const signal = new AbortController().signal;
    expect((await gc.collect(signal)).sort()).toEqual(["fake://a", "fake://b"]);
    expect(cloud.deleteSignals).toEqual([signal, signal]);
    expect(cloud.instances.size).toBe(0);
  });

  it("deletes nothing more once leadership is lost (the signal aborted)", async () => {
    const { cloud, gc } = await setup();
    const aborter = new AbortController();
    aborter.abort(new Error("leadership lost"));
    expect(await gc.collect(aborter.signal)).toEqual([]);
    expect(cloud.deleteCalls).toEqual([]);
    expect(cloud.instances.size).toBe(2);
  });
});
