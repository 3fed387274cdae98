// The failure classes of a Workspace pass, one by one: the conditions and event each leaves, the
// requeue it asks for, and whether the pass throws after the status is written.
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../lib/clock.ts";
import { UserError } from "../../../lib/errors.ts";
import { MemoryEventRecorder } from "../../../kube/events.ts";
import { isTerminalError } from "../../../kube/runtime/reconciler.ts";
import { HuggingFaceError } from "../../../presets/index.ts";
import { WorkloadConfigError } from "../configmaps.ts";
import { ModelAccessSecretError } from "../models.ts";
import { ForeignObjectError } from "../ownership.ts";
import { PlacementError } from "../placement.ts";
import { Failures, thrownAfterStatus } from "./failures.ts";
import type { WorkingWorkspace } from "./phase.ts";

function recorded(e: unknown) {
  const recorder = new MemoryEventRecorder();
  const ws: WorkingWorkspace = {
    metadata: { name: "w", namespace: "default", generation: 3 },
    resource: { labelSelector: { matchLabels: { apps: "w" } } },
    status: {},
  };
  const result = new Failures({ recorder, clock: new FakeClock() }).record(ws, e);
  const conditions = (ws.status.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
  return { result, conditions, events: recorder.events.map((x) => `${x.type}/${x.reason}`), ws };
}

describe("a failed pass", () => {
  it("a model the Hub refuses is reported on ResourceReady and WorkspaceReady, looked at again in 60 s", () => {
    const e = new HuggingFaceError("ModelAccessRequired", "org/gated", "org/gated is gated: set a token.");
    expect(recorded(e)).toMatchObject({
      result: { requeueAfterMs: 60_000 },
      conditions: ["ResourceReady=False/ModelAccessRequired", "WorkspaceReady=False/ModelAccessRequired"],
      events: ["Warning/ModelAccessRequired"],
    });
    expect(thrownAfterStatus(e)).toBeUndefined();
  });

  it("a missing model access Secret is ModelAccessSecretInvalid, looked at again in 60 s", () => {
    const e = new ModelAccessSecretError("the Secret hf-token is not in namespace default.");
    expect(recorded(e)).toMatchObject({
      result: { requeueAfterMs: 60_000 },
      conditions: [
        "ResourceReady=False/ModelAccessSecretInvalid",
        "WorkspaceReady=False/ModelAccessSecretInvalid",
      ],
    });
    expect(thrownAfterStatus(e)).toBeUndefined();
  });

  it("an unreachable Hub is no refusal: ReconcileError, and rethrown for the queue's backoff", () => {
    const e = new HuggingFaceError("HubUnavailable", "org/m", "the Hub answered 503.");
    expect(recorded(e)).toMatchObject({
      result: {},
      conditions: ["WorkspaceReady=Unknown/ReconcileError"],
      events: [],
    });
    expect(thrownAfterStatus(e)).toEqual({ error: e });
  });

  it("bad input is InvalidSpec and stops with a TerminalError carrying its message", () => {
    const e = new UserError("resource.partition (mig) is not supported by kaito-ts yet: remove it.");
    expect(recorded(e)).toMatchObject({
      result: {},
      conditions: ["ResourceReady=False/InvalidSpec", "WorkspaceReady=False/InvalidSpec"],
      events: ["Warning/InvalidSpec"],
    });
    const thrown = thrownAfterStatus(e)?.error;
    expect(isTerminalError(thrown)).toBe(true);
    expect((thrown as Error).message).toBe(e.message);
  });

  it("an object of the workload's name that is someone else's is WorkloadNameTaken, looked at again in 30 s", () => {
    const e = new ForeignObjectError("Service", "default", "w", "w");
    const r = recorded(e);
    expect(r).toMatchObject({
      result: { requeueAfterMs: 30_000 },
      conditions: ["WorkspaceReady=False/WorkloadNameTaken"],
      events: ["Warning/WorkloadNameTaken"],
    });
    expect(thrownAfterStatus(e)).toBeUndefined();
  });

  it("a broken config ConfigMap is InvalidConfig, looked at again in 30 s", () => {
    const e = new WorkloadConfigError('the ConfigMap "cfg" in namespace default has no "x" key; add it.');
    expect(recorded(e)).toMatchObject({
      result: { requeueAfterMs: 30_000 },
      conditions: ["WorkspaceReady=False/InvalidConfig"],
      events: ["Warning/InvalidConfig"],
    });
    expect(thrownAfterStatus(e)).toBeUndefined();
  });

  it("placements that capacity, quota or the offering may allow later are looked at again in 300 s, the others are not", () => {
    const requeues = Object.fromEntries(
      (
        [
          "NoCapacity",
          "InstanceTypeNotOffered",
          "QuotaExceeded",
          "InstanceTypeUnknown",
          "InstanceTypeTooSmall",
          "NotEnoughNodes",
        ] as const
      ).map((reason) => {
        const e = new PlacementError(reason, "cannot place it.");
        expect(thrownAfterStatus(e)).toBeUndefined();
        const r = recorded(e);
        expect(r.conditions).toEqual([`ResourceReady=False/${reason}`, `WorkspaceReady=False/${reason}`]);
        return [reason, r.result.requeueAfterMs];
      }),
    );
    expect(requeues).toEqual({
      NoCapacity: 300_000,
      InstanceTypeNotOffered: 300_000,
      QuotaExceeded: 300_000,
      InstanceTypeUnknown: undefined,
      InstanceTypeTooSmall: undefined,
      NotEnoughNodes: undefined,
    });
  });

  it("anything else is ReconcileError with its message, and rethrown as it was", () => {
    const e = new Error("etcdserver: request timed out");
    const r = recorded(e);
    expect(r.conditions).toEqual(["WorkspaceReady=Unknown/ReconcileError"]);
    expect(r.ws.status.conditions?.[0]).toMatchObject({
      message: "etcdserver: request timed out",
      observedGeneration: 3,
    });
    expect(thrownAfterStatus(e)).toEqual({ error: e });
  });
});
