// The kaito.sh/workspace label carries the Workspace's name. A label value holds at most 63
// characters, so this holds only because the Workspace CRD admits no longer name (metadata.name
// must be a DNS label in every served version, since the Workspace's Service takes its name): the
// test pins both halves, so relaxing the name rule fails here rather than in the API server,
// which would refuse every Machine, NodeClaim and pod of a longer-named workspace.
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { workspaceLabel, type Workspace } from "../../crds/index.ts";
import { inferenceDeployment, inferenceService } from "../workspace/workloads.ts";
import { ownerLabels } from "./labels.ts";

/** Kubernetes' label value rule (apimachinery validation.IsValidLabelValue). */
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const dnsLabel = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

interface Crd {
  spec: { versions: { name: string; served: boolean; schema: { openAPIV3Schema: unknown } }[] };
}
const crd = parseAllDocuments(
  readFileSync(path.resolve(import.meta.dirname, "../../crds/workspaces.kaito.sh.yaml"), "utf8"),
)[0]!.toJS() as Crd;

/** Every label map anywhere in an object. */
function labelMaps(o: unknown): Record<string, string>[] {
  if (typeof o !== "object" || o === null) return [];
  return Object.entries(o).flatMap(([k, v]) =>
    (k === "labels" || k === "matchLabels") && typeof v === "object" && v !== null
      ? [v as Record<string, string>, ...labelMaps(v)]
      : labelMaps(v),
  );
}

describe("the kaito.sh/workspace label", () => {
  it("fits a label value because every served Workspace version admits DNS-label names only", () => {
    for (const v of crd.spec.versions.filter((x) => x.served)) {
      const rules = JSON.stringify(v.schema.openAPIV3Schema);
      expect(rules, v.name).toContain("size(self.metadata.name) <= 63");
      expect(rules, v.name).toContain(`self.metadata.name.matches('${dnsLabel.source}')`);
    }
  });

  it("is a valid label value on every object of the longest-named workspace", () => {
    const name = `w${"x".repeat(61)}9`;
    expect(name).toMatch(dnsLabel);
    expect(name).toHaveLength(63);
    const ws: Workspace = {
      apiVersion: "kaito.sh/v1alpha1",
      kind: "Workspace",
      metadata: { name, namespace: "n".repeat(63), uid: "uid" },
      resource: { labelSelector: { matchLabels: { apps: "x" } } },
      inference: { preset: { name: "phi-3-mini-4k-instruct" } },
    };
    const template = { metadata: { labels: { [workspaceLabel]: name } }, spec: { containers: [] } };
    const objects = [
      { metadata: { labels: ownerLabels(ws) } },
      inferenceDeployment(ws, 1, template),
      inferenceService(ws, true),
    ];
    const maps = objects.flatMap(labelMaps);
    expect(maps.some((m) => m[workspaceLabel] === name)).toBe(true);
    for (const m of maps)
      for (const [k, v] of Object.entries(m)) {
        expect(v.length, k).toBeLessThanOrEqual(63);
        expect(v, k).toMatch(labelValue);
      }
  });
});
