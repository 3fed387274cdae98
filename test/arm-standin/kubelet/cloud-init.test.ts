import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { kubeadmJoinOf, parseNodeLabels, parseTaints, readUserData } from "./cloud-init.ts";
import { kubeadmJoinUserData } from "./fixtures.ts";

const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const token = "abcdef.0123456789abcdef";

describe("cloud-init on the stand-in's VMs", () => {
  it("reads plain and gzipped user data, and ignores what it has no handler for", () => {
    const text = kubeadmJoinUserData(token);
    expect(readUserData(b64(text))).toEqual({ text });
    expect(readUserData(b64(gzipSync(text)))).toEqual({ text });
    expect(readUserData(undefined)).toEqual({
      ignored: "the VM has no customData, so nothing on it runs kubeadm join",
    });
    expect(readUserData(b64(`kubeadm join --token ${token}`))).toMatchObject({
      ignored: expect.stringMatching(/no handler/),
    });
  });

  it("finds the token and kubelet flags of the kubeadm join, in flag or config form", () => {
    const filled = kubeadmJoinUserData(token)
      .replace("{{KAITO_NODE_LABELS}}", "a=1,kaito.sh/workspace=w")
      .replace("{{KAITO_NODE_TAINTS}}", "sku=gpu:NoSchedule");
    expect(kubeadmJoinOf(filled)).toEqual({
      token,
      nodeLabels: "a=1,kaito.sh/workspace=w",
      registerWithTaints: "sku=gpu:NoSchedule",
    });
    const config = [
      "#cloud-config",
      "write_files:",
      "  - path: /etc/kubeadm/join.yaml",
      "    content: |",
      "      kind: JoinConfiguration",
      "      discovery:",
      "        bootstrapToken:",
      `          token: "${token}"`,
      "runcmd: [kubeadm join --config /etc/kubeadm/join.yaml]",
    ].join("\n");
    expect(kubeadmJoinOf(config)).toEqual({ token });
    expect(kubeadmJoinOf("#cloud-config\nruncmd: [echo hello]")).toBeUndefined();
    expect(kubeadmJoinOf("#!/bin/sh\nkubeadm join 10.0.0.4:6443 --discovery-file /etc/k.conf")).toEqual({});
  });

  it("refuses node labels and taints as kubelet does", () => {
    expect(parseNodeLabels("a=1,kaito.sh/workspace=w,node.kubernetes.io/instance-type=x")).toEqual({
      a: "1",
      "kaito.sh/workspace": "w",
      "node.kubernetes.io/instance-type": "x",
    });
    expect(parseNodeLabels("")).toEqual({});
    expect(parseNodeLabels("node-role.kubernetes.io/gpu=true")).toEqual({
      refused:
        "kubelet refuses --node-labels: it may not set the kubernetes.io label node-role.kubernetes.io/gpu itself",
    });
    expect(parseNodeLabels("a=b c")).toHaveProperty("refused");
    expect(parseTaints("sku=gpu:NoSchedule,x:NoExecute")).toEqual([
      { key: "sku", value: "gpu", effect: "NoSchedule" },
      { key: "x", effect: "NoExecute" },
    ]);
    expect(parseTaints("sku=gpu")).toHaveProperty("refused");
  });
});
