import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../lib/clock.ts";
import { silentLogger } from "../../lib/log.ts";
import { instanceTypeLabel, zoneLabel } from "../../crds/index.ts";
import type { KubeClient } from "../../kube/client.ts";
import { MemoryEventRecorder } from "../../kube/events.ts";
import { CreateError, InsufficientCapacityError } from "../cloud/errors.ts";
import { FakeCloudProvider } from "../cloud/fake/index.ts";
import { machine } from "../fixtures.ts";
import { conditionOf } from "./conditions.ts";
import { Launch } from "./launch.ts";
import { ProvisionerMetrics } from "./metrics.ts";
import type { NodeReader } from "./nodes.ts";

// Launch talks only to the cloud: no API server needed.
function setup() {
  const clock = new FakeClock();
  const capacityFailures: InsufficientCapacityError[] = [];
  const cloud = new FakeCloudProvider({ clock });
  const recorder = new MemoryEventRecorder();
  const registry = new Registry();
  const metrics = new ProvisionerMetrics(registry, { nodes: () => [], pods: () => [] });
  const launch = new Launch({
    client: undefined as unknown as KubeClient,
    nodes: undefined as unknown as NodeReader,
    cloud,
    clock,
    recorder,
    metrics,
    onCapacityFailure: (e) => capacityFailures.push(e),
  });
  const ctx = { log: silentLogger, signal: new AbortController().signal };
  return { cloud, recorder, launch, ctx, registry, capacityFailures };
}

describe("launch", () => {
  it("gives the cloud the reconcile's signal, and records nothing for a launch it aborted", async () => {
    const { cloud, launch, recorder } = setup();
    const aborter = new AbortController();
    const ctx = { log: silentLogger, signal: aborter.signal };
    const m = machine();
    aborter.abort(new Error("leadership lost"));
    await expect(launch.reconcile(m, ctx)).rejects.toThrow("leadership lost");
    expect(cloud.createSignals).toEqual([aborter.signal]);
    // No condition, no event: the next leader launches the same Machine by name.
    expect(conditionOf(m, "MachineLaunched")).toBeUndefined();
    expect(recorder.events).toEqual([]);
  });

  it("records the instance and sets MachineLaunched True, once", async () => {
    const { cloud, launch, ctx, recorder } = setup();
    const m = machine({
      spec: {
        requirements: [{ key: instanceTypeLabel, operator: "In", values: ["Standard_NC24ads_A100_v4"] }],
      },
    });
    await launch.reconcile(m, ctx);
    expect(m.status).toMatchObject({
      providerID: `fake://${m.metadata!.name}`,
      capacity: { "nvidia.com/gpu": "1" },
      allocatable: { "nvidia.com/gpu": "1" },
    });
    expect(m.metadata?.labels).toMatchObject({
      [instanceTypeLabel]: "Standard_NC24ads_A100_v4",
      [zoneLabel]: "fake-zone-1",
    });
    expect(conditionOf(m, "MachineLaunched")).toMatchObject({ status: "True", reason: "Launched" });
    expect(recorder.events.map((e) => e.reason)).toEqual(["Launched"]);
    await launch.reconcile(m, ctx);
    expect(cloud.createCalls).toHaveLength(1);
  });

  it.each([
    ["quota", "QuotaExceeded"],
    ["sku", "SkuNotAvailable"],
    ["allocation", "InsufficientCapacity"],
  ] as const)("gives up for good on insufficient capacity (%s → %s)", async (kind, reason) => {
    const { cloud, launch, ctx, recorder } = setup();
    cloud.nextCreateError = new InsufficientCapacityError(
      kind,
      "Standard_NC24ads_A100_v4",
      "no luck for Standard_NC24ads_A100_v4.",
    );
    const m = machine();
    await expect(launch.reconcile(m, ctx)).resolves.toEqual({});
    expect(conditionOf(m, "MachineLaunched")).toMatchObject({
      status: "False",
      reason,
      message: "no luck for Standard_NC24ads_A100_v4.",
    });
    expect(recorder.events).toMatchObject([{ type: "Warning", reason }]);
    await launch.reconcile(m, ctx);
    expect(cloud.createCalls).toHaveLength(1);
  });

  it("tells the listener of a refused launch (what the cloud offers changed), not of a retryable one", async () => {
    const { cloud, launch, ctx, capacityFailures } = setup();
    cloud.nextCreateError = new CreateError("Throttled", "ARM asked us to slow down");
    await expect(launch.reconcile(machine(), ctx)).rejects.toThrow();
    expect(capacityFailures).toEqual([]);
    const refused = new InsufficientCapacityError("quota", "Standard_NC6s_v3", "no quota.");
    cloud.nextCreateError = refused;
    const m = machine();
    await launch.reconcile(m, ctx);
    await launch.reconcile(m, ctx);
    expect(capacityFailures).toEqual([refused]);
  });

  it("keeps MachineLaunched Unknown with the cloud's reason and rethrows a retryable failure", async () => {
    const { cloud, launch, ctx, recorder } = setup();
    cloud.nextCreateError = new CreateError("Throttled", "ARM asked us to slow down");
    const m = machine();
    await expect(launch.reconcile(m, ctx)).rejects.toThrow("slow down");
    expect(conditionOf(m, "MachineLaunched")).toMatchObject({ status: "Unknown", reason: "Throttled" });
    expect(recorder.events).toMatchObject([{ type: "Warning", reason: "LaunchFailed" }]);
    cloud.nextCreateError = new Error("socket hang up");
    await expect(launch.reconcile(m, ctx)).rejects.toThrow("socket hang up");
    expect(conditionOf(m, "MachineLaunched")).toMatchObject({ status: "Unknown", reason: "LaunchFailed" });
    await launch.reconcile(m, ctx);
    expect(conditionOf(m, "MachineLaunched")?.status).toBe("True");
  });

  it("counts every failed attempt by a bounded reason, and no success", async () => {
    const { cloud, launch, ctx, registry } = setup();
    const failures = async () =>
      Object.fromEntries(
        (await registry.getSingleMetric("kaito_machine_provisioning_failures_total")!.get()).values
          .filter((v) => v.value > 0)
          .map((v) => [v.labels.reason, v.value]),
      );
    const m = machine();
    cloud.nextCreateError = new CreateError("Throttled", "ARM asked us to slow down");
    await expect(launch.reconcile(m, ctx)).rejects.toThrow();
    // An ARM error code we do not list must not become a label value of its own.
    cloud.nextCreateError = new CreateError("OperationPreempted", "preempted");
    await expect(launch.reconcile(m, ctx)).rejects.toThrow();
    await launch.reconcile(m, ctx);
    expect(await failures()).toEqual({ Throttled: 1, LaunchFailed: 1 });

    const other = machine();
    cloud.nextCreateError = new InsufficientCapacityError("quota", "Standard_NC6s_v3", "no quota.");
    await launch.reconcile(other, ctx);
    expect(await failures()).toEqual({ Throttled: 1, LaunchFailed: 1, QuotaExceeded: 1 });
  });
});
