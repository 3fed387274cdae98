import { describe, expect, it } from "vitest";
import { instanceTypeLabel, zoneLabel } from "../crds/index.ts";
import { machine } from "./fixtures.ts";
import { allowedInstanceTypes, allowedZones, requiredLabels } from "./requirements.ts";

describe("requirements", () => {
  it("turns single-valued In requirements into labels and leaves choices to the cloud", () => {
    const m = machine({
      spec: {
        requirements: [
          { key: instanceTypeLabel, operator: "In", values: ["Standard_NC24ads_A100_v4"] },
          { key: zoneLabel, operator: "In", values: ["eastus-1", "eastus-2"] },
          { key: "karpenter.sh/capacity-type", operator: "NotIn", values: ["spot"] },
        ],
      },
    });
    const labels = requiredLabels(m);
    expect(labels[instanceTypeLabel]).toBe("Standard_NC24ads_A100_v4");
    expect(labels).not.toHaveProperty(zoneLabel);
    expect(labels).not.toHaveProperty("karpenter.sh/capacity-type");
    expect(labels.apps).toBe("phi-3");
  });

  it("intersects repeated requirements and a label on the Machine", () => {
    const m = machine({
      metadata: { labels: { [zoneLabel]: "b" } },
      spec: {
        requirements: [
          { key: zoneLabel, operator: "In", values: ["a", "b", "c"] },
          { key: zoneLabel, operator: "In", values: ["b", "c"] },
        ],
      },
    });
    expect(allowedZones(m)).toEqual(["b"]);
    expect(allowedInstanceTypes(machine({ spec: { requirements: [] } }))).toBeUndefined();
  });
});
