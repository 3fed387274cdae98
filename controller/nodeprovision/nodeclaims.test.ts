// How a failed launch shows on a NodeClaim, by the serving component: Karpenter core v1.13 deletes
// the claim and records an InsufficientCapacityError event (lifecycle/launch.go, events.go);
// gpu-provisioner and KAITO use Launched=False (pkg/utils/nodeclaim/nodeclaim.go).
import { describe, expect, it } from "vitest";
import type { NodeClaim } from "../../crds/index.ts";
import { nodeClaimFailure, vanishedLaunchFailure, type CoreEvent } from "./nodeclaims.ts";

const now = Date.UTC(2026, 11, 6, 12);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function event(over: Partial<CoreEvent> & { at: number }): CoreEvent {
  const { at, ...rest } = over;
  return {
    metadata: { name: "e", namespace: "default" },
    reason: "InsufficientCapacityError",
    message:
      "NodeClaim ws0123456789 event: insufficient capacity, all requested instance types were unavailable",
    involvedObject: { kind: "NodeClaim", name: "ws0123456789", uid: "u1" },
    firstTimestamp: iso(at),
    lastTimestamp: iso(at),
    ...rest,
  };
}

describe("a claim Karpenter deleted for insufficient capacity", () => {
  it("is a capacity failure while its event is recent, with Karpenter's message", () => {
    const failure = vanishedLaunchFailure([event({ at: now - 5_000 })], "ws0123456789", now, 50_000);
    expect(failure).toEqual({
      reason: "InsufficientCapacity",
      message:
        "NodeClaim ws0123456789 event: insufficient capacity, all requested instance types were unavailable",
    });
  });

  it("is not one once the event is older than the window (a launch already handled and backed off)", () => {
    expect(vanishedLaunchFailure([event({ at: now - 60_000 })], "ws0123456789", now, 50_000)).toBeUndefined();
  });

  it("counts only that claim's InsufficientCapacityError events", () => {
    const others = [
      event({ at: now, involvedObject: { kind: "NodeClaim", name: "ws9999999999" } }),
      event({ at: now, reason: "Nominated" }),
      event({ at: now, involvedObject: { kind: "Node", name: "ws0123456789" } }),
    ];
    expect(vanishedLaunchFailure(others, "ws0123456789", now, 50_000)).toBeUndefined();
  });

  it("reads the newest of the event's times (a repeated event keeps its first timestamp)", () => {
    const repeated = event({ at: now - 600_000, series: { lastObservedTime: iso(now - 1_000) } });
    expect(vanishedLaunchFailure([repeated], "ws0123456789", now, 50_000)?.reason).toBe(
      "InsufficientCapacity",
    );
  });
});

describe("a claim that reports its own failed launch", () => {
  const claim = (status: "True" | "False" | "Unknown", reason = "LaunchFailed"): NodeClaim => ({
    spec: {
      nodeClassRef: { group: "kaito.sh", kind: "KaitoNodeClass", name: "default" },
      requirements: [
        { key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_NC6s_v3"] },
      ],
    },
    status: {
      conditions: [
        { type: "Launched", status, reason, message: "all requested instance types were unavailable" },
      ],
    },
  });

  it("is a capacity failure when Launched is False, whatever reason gpu-provisioner gave", () => {
    expect(nodeClaimFailure(claim("False"))).toEqual({
      reason: "InsufficientCapacity",
      message: "all requested instance types were unavailable",
    });
    expect(nodeClaimFailure(claim("False", "QuotaExceeded"))?.reason).toBe("QuotaExceeded");
  });

  it("is still launching while Launched is Unknown: Karpenter retries a cloud error until its 5-minute timeout", () => {
    expect(nodeClaimFailure(claim("Unknown"))).toBeUndefined();
    expect(nodeClaimFailure(claim("True"))).toBeUndefined();
  });
});
