import { describe, expect, it } from "vitest";
import { kubeSchedulerConfig } from "./scheduler-config.ts";

describe("kubeSchedulerConfig", () => {
  it("wires the extender from deploy/ with the URL swapped", () => {
    const config = kubeSchedulerConfig({ url: "http://127.0.0.1:4321" });
    expect(config).toMatchObject({
      apiVersion: "kubescheduler.config.k8s.io/v1",
      kind: "KubeSchedulerConfiguration",
      profiles: [{ schedulerName: "kaito-scheduler" }],
    });
    expect(config.extenders).toEqual([
      {
        urlPrefix: "http://127.0.0.1:4321",
        filterVerb: "filter",
        prioritizeVerb: "prioritize",
        bindVerb: "bind",
        weight: 10,
        enableHTTPS: false,
        nodeCacheCapable: true,
        managedResources: [{ name: "nvidia.com/gpu", ignoredByScheduler: false }],
        ignorable: true,
        httpTimeout: "2s",
      },
    ]);
  });

  it("switches to full Node objects and drops bind on request", () => {
    const [extender] = kubeSchedulerConfig({ url: "http://x", nodeCacheCapable: false, bind: false })
      .extenders as Record<string, unknown>[];
    expect(extender!.nodeCacheCapable).toBe(false);
    expect(extender!.bindVerb).toBeUndefined();
  });
});
