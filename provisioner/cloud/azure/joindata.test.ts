import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isUserError } from "../../../lib/errors.ts";
import { machine } from "../../fixtures.ts";
import {
  joinDataFile,
  joinDataValue,
  kubeletMaySetLabel,
  kubeletRegistration,
  loadJoinData,
  maxCustomDataBytes,
  NodeJoinData,
  nodeLabelsFlag,
  registerWithTaintsFlag,
} from "./joindata.ts";

const token = "abcdef.0123456789abcdef";
const template = [
  "#cloud-config",
  "write_files:",
  "  - path: /etc/default/kubelet",
  "    content: |",
  "      KUBELET_EXTRA_ARGS=--node-labels={{KAITO_NODE_LABELS}} --register-with-taints={{KAITO_NODE_TAINTS}}",
  "runcmd:",
  `  - kubeadm join 10.0.0.4:6443 --token ${token} --discovery-token-ca-cert-hash sha256:00`,
].join("\n");

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toSatisfy(isUserError);
    return (e as Error).message;
  }
  throw new Error("expected a refusal");
};

describe("node join data", () => {
  it("fills the Machine's kubelet labels and taints into the placeholders, as base64 customData", () => {
    const data = NodeJoinData.parse(Buffer.from(template), "file /etc/kaito/join");
    const m = machine({
      metadata: { name: "ws0a1b2c3d4", labels: { "kubernetes.io/hostname": "stale" } },
      spec: {
        requirements: [
          { key: "node.kubernetes.io/instance-type", operator: "In", values: ["Standard_NC6s_v3"] },
          { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
          { key: "topology.kubernetes.io/zone", operator: "In", values: ["eastus-1", "eastus-2"] },
          // kubelet may not set this one itself: the provisioner's sync adds it after registration.
          { key: "kubernetes.io/role", operator: "In", values: ["gpu"] },
        ],
        taints: [{ key: "sku", value: "gpu", effect: "NoSchedule" }],
        startupTaints: [{ key: "example.com/booting", effect: "NoExecute" }],
      },
    });
    const text = Buffer.from(data.customDataFor(kubeletRegistration(m)), "base64").toString("utf8");
    expect(text).toContain(
      "--node-labels=apps=phi-3,kaito.sh/workspace=phi-3,kaito.sh/workspacenamespace=default,karpenter.sh/capacity-type=on-demand,kubernetes.io/hostname=stale,node.kubernetes.io/instance-type=Standard_NC6s_v3 ",
    );
    expect(text).toContain("--register-with-taints=sku=gpu:NoSchedule,example.com/booting:NoExecute\n");
    expect(text).toContain(`--token ${token}`);
    // Deterministic: the same Machine gets the same customData, so a repeated PUT is a no-op.
    expect(data.customDataFor(kubeletRegistration(m))).toBe(data.customDataFor(kubeletRegistration(m)));
  });

  it("knows which labels a kubelet may set on its own Node", () => {
    for (const ok of [
      "kaito.sh/workspace",
      "apps",
      "node.kubernetes.io/instance-type",
      "topology.kubernetes.io/zone",
      "kubernetes.io/os",
      "example.node.kubernetes.io/x",
      "kubelet.kubernetes.io/y",
    ])
      expect(kubeletMaySetLabel(ok), ok).toBe(true);
    for (const no of ["kubernetes.io/role", "node-role.kubernetes.io/gpu", "k8s.io/x", "x.k8s.io/y"])
      expect(kubeletMaySetLabel(no), no).toBe(false);
    expect(nodeLabelsFlag({})).toBe("");
    expect(
      registerWithTaintsFlag([
        { key: "a", effect: "NoSchedule" },
        { key: "b", value: "", effect: "NoExecute" },
      ]),
    ).toBe("a:NoSchedule,b:NoExecute");
  });

  it("refuses what cloud-init would ignore and what ARM would refuse, naming the source and never the data", () => {
    const origin = "file /etc/kaito/join";
    expect(refusal(() => NodeJoinData.parse(Buffer.from("  \n"), origin))).toMatch(/is empty/);
    const plain = refusal(() => NodeJoinData.parse(Buffer.from(`kubeadm join --token ${token}`), origin));
    expect(plain).toBe(
      "the node join data in file /etc/kaito/join is not cloud-init user data (it must start with #cloud-config, a #! script or a MIME multipart header), so cloud-init would ignore it and the VMs would never join.",
    );
    expect(plain).not.toContain(token);
    const big = `#!/bin/sh\n${"x".repeat(maxCustomDataBytes)}`;
    expect(refusal(() => NodeJoinData.parse(Buffer.from(big), origin))).toMatch(
      /is 65545 bytes but Azure takes at most 65535 bytes of customData/,
    );
    expect(refusal(() => NodeJoinData.parse(Buffer.from([0x1f, 0x8b, 1, 2]), origin))).toMatch(
      /does not decompress/,
    );
    expect(refusal(() => NodeJoinData.parse(gzipSync(template), origin))).toMatch(/gzipped but uses/);
    // Placeholders that grow the data past the limit are caught for the VM that needs them.
    const nearly = NodeJoinData.parse(
      Buffer.from(`#!/bin/sh\n# {{KAITO_NODE_LABELS}}\n${"x".repeat(maxCustomDataBytes - 40)}`),
      origin,
    );
    expect(refusal(() => nearly.customDataFor(kubeletRegistration(machine())))).toMatch(
      /at most 65535 bytes/,
    );
  });

  it("passes gzipped cloud-init through unchanged", () => {
    const script = "#!/bin/sh\nkubeadm join 10.0.0.4:6443 --token abcdef.0123456789abcdef\n";
    const zipped = gzipSync(script);
    const data = NodeJoinData.parse(zipped, "test");
    expect(data.customDataFor({ labels: {}, taints: [] })).toBe(zipped.toString("base64"));
  });

  it("shows only where it came from when printed, logged or serialised", () => {
    const data = NodeJoinData.parse(Buffer.from(template), "the AZURE_NODE_JOIN_DATA environment variable");
    for (const shown of [
      String(data),
      JSON.stringify({ data }),
      inspect(data),
      inspect({ nested: { data } }),
    ]) {
      expect(shown).not.toContain(token);
      expect(shown).not.toContain(Buffer.from(template).toString("base64").slice(0, 20));
    }
    expect(JSON.stringify({ data })).toBe(
      '{"data":"[node join data from the AZURE_NODE_JOIN_DATA environment variable]"}',
    );
  });
});

describe("join data sources", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "kaito-joindata-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a file again each time, so a rotated Secret volume reaches the next VM", async () => {
    const file = path.join(dir, "cloud-init");
    await writeFile(file, template);
    const source = joinDataFile(file);
    const first = (await loadJoinData(source)).customDataFor({ labels: {}, taints: [] });
    await writeFile(file, template.replace(token, "ghijkl.0123456789abcdef"));
    const second = (await loadJoinData(source)).customDataFor({ labels: {}, taints: [] });
    expect(Buffer.from(first, "base64").toString()).toContain(token);
    expect(Buffer.from(second, "base64").toString()).toContain("ghijkl.0123456789abcdef");
  });

  it("says which file it cannot read", async () => {
    const missing = path.join(dir, "nope");
    await expect(loadJoinData(joinDataFile(missing))).rejects.toThrow(
      `cannot read the node join data file ${missing} (ENOENT); point --azure-node-join-data-file at the cloud-init file that joins a VM to the cluster.`,
    );
    await expect(loadJoinData(joinDataValue("#cloud-config\n", "env"))).resolves.toBeInstanceOf(NodeJoinData);
  });
});
