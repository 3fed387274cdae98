import { describe, expect, it } from "vitest";
import { machine, node } from "../fixtures.ts";
import { expectedResources, initializationBlocker } from "./initialization.ts";

describe("initialization", () => {
  it("expects the requested resources and every extended resource the instance reported", () => {
    const m = machine({ spec: { resources: { requests: { cpu: "2" } } } });
    m.status = { capacity: { cpu: "24", memory: "220Gi", "nvidia.com/gpu": "1", "rdma/ib": "0" } };
    expect(expectedResources(m)).toEqual(["cpu", "nvidia.com/gpu"]);
  });

  it("does not wait for the OS disk's storage request, which no node reports as allocatable", () => {
    const m = machine({ spec: { resources: { requests: { "nvidia.com/gpu": "1", storage: "128Gi" } } } });
    expect(expectedResources(m)).toEqual(["nvidia.com/gpu"]);
  });

  it("names the first thing that keeps a registered node from being usable", () => {
    const m = machine({
      spec: {
        startupTaints: [{ key: "driver", effect: "NoSchedule" }],
        resources: { requests: { "nvidia.com/gpu": "1" } },
      },
    });
    expect(initializationBlocker(m, node({ name: "n", ready: false }))?.reason).toBe("NodeNotReady");
    const tainted = node({ name: "n", spec: { taints: [{ key: "driver", effect: "NoSchedule" }] } });
    expect(initializationBlocker(m, tainted)).toEqual({
      reason: "StartupTaintsExist",
      message: "node n still has the taint driver:NoSchedule",
    });
    const unreachable = node({
      name: "n",
      spec: { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoSchedule" }] },
    });
    expect(initializationBlocker(m, unreachable)?.reason).toBe("StartupTaintsExist");
    expect(initializationBlocker(m, node({ name: "n", gpus: 0 }))).toEqual({
      reason: "ResourceNotRegistered",
      message: "node n has no allocatable nvidia.com/gpu yet",
    });
    expect(initializationBlocker(m, node({ name: "n", gpus: 2 }))).toBeUndefined();
  });
});
