// The Machine and NodeClaim shapes, pinned to what the real consumers read and refuse
// (../shared/REAL-WORLD.md; Azure/gpu-provisioner v0.2.1 and v0.4.3 pkg/providers/instance/
// instance.go; kaito-project/kaito v0.12 pkg/utils/nodeclaim/nodeclaim.go; Karpenter core
// pkg/apis/v1 and the module's NodeClaim CRD rules).
import { describe, expect, it } from "vitest";
import type { Workspace } from "../../crds/index.ts";
import { desiredMachine } from "./machines.ts";
import { nodeObjectName } from "./naming.ts";
import {
  defaultNodeClass,
  gpuProvisionerNodeClaim,
  karpenterNodeClaim,
  kwokNodeClass,
  parseNodeClass,
} from "./nodeclaim-shapes.ts";
import { osDiskGiB } from "./storage.ts";
import type { NodeRequest } from "./types.ts";

function workspace(name: string, namespace = "default", uid = `${name}-uid`): Workspace {
  return {
    apiVersion: "kaito.sh/v1alpha1",
    kind: "Workspace",
    metadata: { name, namespace, uid },
    resource: {
      labelSelector: {
        matchLabels: { apps: name },
        matchExpressions: [{ key: "pool", operator: "In", values: ["gpu"] }],
      },
    },
    inference: { preset: { name: "phi-3-mini-4k-instruct" } },
  };
}

const request: NodeRequest = {
  instanceType: "Standard_NC24ads_A100_v4",
  newNodes: 1,
  existingNodes: [],
  gpusPerNode: 1,
  osDiskGiB: 256,
};
const ws = workspace("a-workspace-name-that-is-long-enough-to-overflow-anything-63c");
const name = nodeObjectName(ws, request.instanceType, 0);

describe("names", () => {
  it("are what gpu-provisioner takes as an AKS agent-pool name: ws + 9 hex", () => {
    // v0.2.1 refuses more than 11 characters and assumes no "-"; v0.4.3 wants ^[a-z][a-z0-9]{0,11}$.
    expect(name).toMatch(/^[a-z][a-z0-9]{0,11}$/);
    expect(name.length).toBeLessThanOrEqual(11);
    expect(name).toMatch(/^ws[0-9a-f]{9}$/);
  });

  it("are the same on every call for the same workspace uid, size and index, and differ otherwise", () => {
    expect(nodeObjectName(ws, request.instanceType, 0)).toBe(name);
    expect(nodeObjectName(ws, request.instanceType.toLowerCase(), 0)).toBe(name);
    const others = [
      nodeObjectName(ws, request.instanceType, 1),
      nodeObjectName(ws, "Standard_NC6s_v3", 0),
      nodeObjectName({ ...ws, metadata: { ...ws.metadata, uid: "recreated" } }, request.instanceType, 0),
      nodeObjectName(ws, request.instanceType, 0, 1),
    ];
    expect(new Set([name, ...others]).size).toBe(5);
  });
});

describe("the builtin Machine", () => {
  const m = desiredMachine(ws, request, name);

  it("carries the owner labels gpu-provisioner filters on and the workspace's node labels, no hostname", () => {
    expect(m.metadata?.labels).toEqual({
      apps: ws.metadata!.name,
      pool: "gpu",
      "kaito.sh/workspace": ws.metadata!.name,
      "kaito.sh/workspacenamespace": "default",
    });
    expect(m.metadata?.labels?.["kubernetes.io/hostname"]).toBeUndefined();
  });

  it("names the size as the first value of its instance-type requirement, with the GPUs and the OS disk", () => {
    const r = m.spec!.requirements!.find((x) => x.key === "node.kubernetes.io/instance-type");
    expect(r?.values?.[0]).toBe(request.instanceType);
    expect(m.spec?.resources?.requests).toEqual({ "nvidia.com/gpu": "1", storage: "256Gi" });
    expect(m.spec?.taints).toEqual([{ key: "sku", value: "gpu", effect: "NoSchedule" }]);
    // Early gpu-provisioner releases took the agent-pool name from the template ref (with "-" removed).
    expect(m.spec?.machineTemplateRef).toEqual({ name });
  });
});

describe("the azure-gpu-provisioner NodeClaim (KAITO v0.12's shape)", () => {
  const nc = gpuProvisionerNodeClaim(ws, request, name);

  it("has KAITO's labels, annotations and node class", () => {
    expect(nc.apiVersion).toBe("karpenter.sh/v1");
    expect(nc.metadata?.labels).toMatchObject({
      "karpenter.sh/nodepool": "kaito",
      "kaito.sh/workspace": ws.metadata!.name,
      "kaito.sh/workspacenamespace": "default",
      apps: ws.metadata!.name,
    });
    expect(nc.metadata?.annotations).toEqual({
      "karpenter.sh/do-not-disrupt": "true",
      "kaito.sh/node-image-family": "ubuntu",
    });
    expect(nc.spec?.nodeClassRef).toEqual({ group: "kaito.sh", kind: "KaitoNodeClass", name: "default" });
  });

  it("has KAITO's requirements and taint, and only a storage request, which v0.4.3 requires non-zero", () => {
    expect(nc.spec?.requirements).toEqual([
      { key: "karpenter.sh/nodepool", operator: "In", values: ["kaito"] },
      { key: "node.kubernetes.io/instance-type", operator: "In", values: [request.instanceType] },
      { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
      { key: "karpenter.azure.com/sku-name", operator: "In", values: [request.instanceType] },
    ]);
    expect(nc.spec?.resources?.requests).toEqual({ storage: "256Gi" });
    expect(nc.spec?.taints).toEqual([{ key: "sku", value: "gpu", effect: "NoSchedule" }]);
  });
});

describe("the karpenter NodeClaim", () => {
  it("pins the planner's size for AKS Node Auto Provisioning by default, with the GPUs, no disruption, no expiry", () => {
    const nc = karpenterNodeClaim(ws, request, name, defaultNodeClass);
    expect(nc.spec?.nodeClassRef).toEqual({
      group: "karpenter.azure.com",
      kind: "AKSNodeClass",
      name: "default",
    });
    expect(nc.spec?.requirements).toEqual([
      { key: "node.kubernetes.io/instance-type", operator: "In", values: [request.instanceType] },
      { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
      { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
      { key: "karpenter.azure.com/sku-name", operator: "In", values: [request.instanceType] },
    ]);
    expect(nc.spec?.resources?.requests).toEqual({ "nvidia.com/gpu": "1" });
    expect(nc.spec?.taints).toEqual([{ key: "sku", value: "gpu", effect: "NoSchedule" }]);
    expect(nc.spec?.expireAfter).toBe("Never");
    expect(nc.metadata?.annotations).toEqual({ "karpenter.sh/do-not-disrupt": "true" });
  });

  it("is a bare claim that the NodeClaim CRD's label rules accept", () => {
    const nc = karpenterNodeClaim(ws, request, name, kwokNodeClass);
    const labels = Object.keys(nc.metadata?.labels ?? {});
    expect(labels).not.toContain("karpenter.sh/nodepool");
    // karpenter.sh/v1 CRD: requirement keys may not be kubernetes.io/hostname nor in karpenter.sh
    // other than capacity-type and nodepool; a provider's own domain is refused as well.
    for (const r of nc.spec!.requirements) {
      expect(r.key).not.toBe("kubernetes.io/hostname");
      if (r.key.split("/")[0]!.endsWith("karpenter.sh")) expect(r.key).toBe("karpenter.sh/capacity-type");
    }
    expect(nc.spec!.requirements.map((r) => r.key)).not.toContain("karpenter.azure.com/sku-name");
  });

  it("points at any other Karpenter's node class given as GROUP/KIND/NAME", () => {
    expect(parseNodeClass("karpenter.k8s.aws/EC2NodeClass/default")).toEqual({
      group: "karpenter.k8s.aws",
      kind: "EC2NodeClass",
      name: "default",
    });
    for (const bad of ["EC2NodeClass/default", "karpenter.k8s.aws/ec2nodeclass/default", "a/B/C/D", "x//y"])
      expect(() => parseNodeClass(bad)).toThrow(/--node-class must be GROUP\/KIND\/NAME/);
  });
});

describe("the OS disk", () => {
  it("is KAITO's 1024 GiB without a preset, else room for the image and twice the model, at least 128 GiB", () => {
    expect(osDiskGiB(undefined)).toBe(1024);
    expect(osDiskGiB(8)).toBe(128);
    expect(osDiskGiB(150)).toBe(384);
  });
});
