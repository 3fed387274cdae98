import { describe, expect, it } from "vitest";
import { isUserError } from "../../lib/errors.ts";
import { captureIO } from "../test-io.ts";
import { controllerCommand } from "./controller.ts";

describe("kaito controller --scheduler-name", () => {
  it("refuses a name the API server would refuse on every pod, before connecting anywhere", async () => {
    for (const name of ["Kaito_Scheduler", "kaito-", "kaito scheduler", ""]) {
      // No kubeconfig anywhere: had the flag passed, loading the config would fail instead.
      const run = controllerCommand.run(
        ["--scheduler-name", name, "--kubeconfig", "/nonexistent"],
        captureIO(),
      );
      const error: unknown = await run.catch((e: unknown) => e);
      expect(isUserError(error), name).toBe(true);
      expect((error as Error).message, name).toMatch(/^--scheduler-name must be a DNS subdomain/);
    }
  });

  it("names the default scheduler in its help", () => {
    expect(controllerCommand.usage).toMatch(
      /--scheduler-name NAME\s+spec\.schedulerName of the workspace pods \(default:\s+default-scheduler\)/,
    );
  });
});

describe("kaito controller --cloud azure", () => {
  const azureFlags = [
    "--cloud",
    "azure",
    "--azure-subscription-id=00000000-0000-0000-0000-000000000000",
    "--azure-resource-group=kaito",
    "--azure-location=eastus",
    "--azure-subnet-id=/subscriptions/s/resourceGroups/kaito/providers/Microsoft.Network/virtualNetworks/v/subnets/nodes",
    "--kubeconfig",
    "/nonexistent",
  ];

  it("refuses to start without join data, before connecting anywhere", async () => {
    const error: unknown = await controllerCommand.run(azureFlags, captureIO()).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /^--cloud azure creates plain VMs that join the cluster only through their cloud-init, so it needs join data .* on AKS use --node-provisioner karpenter or azure-gpu-provisioner instead\.$/,
    );
  });

  it("refuses join data that cloud-init would ignore, never echoing it", async () => {
    const io = captureIO();
    io.env.AZURE_NODE_JOIN_DATA = "kubeadm join 10.0.0.4:6443 --token abcdef.0123456789abcdef";
    const error: unknown = await controllerCommand.run(azureFlags, io).catch((e: unknown) => e);
    expect(isUserError(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /^the node join data in the AZURE_NODE_JOIN_DATA environment variable is not cloud-init/,
    );
    expect((error as Error).message).not.toContain("abcdef.0123456789abcdef");
  });

  it("documents the join data flag, its variables and the AKS alternative in its help", () => {
    expect(controllerCommand.usage).toMatch(/--azure-node-join-data-file FILE/);
    expect(controllerCommand.usage).toMatch(/\$AZURE_NODE_JOIN_DATA_FILE/);
    expect(controllerCommand.usage).toMatch(/\{\{KAITO_NODE_LABELS\}\}/);
  });
});

describe("kaito controller --node-provisioner", () => {
  const refusal = async (args: string[]) => {
    const error: unknown = await controllerCommand
      .run([...args, "--kubeconfig", "/nonexistent"], captureIO())
      .catch((e: unknown) => e);
    expect(isUserError(error), args.join(" ")).toBe(true);
    return (error as Error).message;
  };

  it("refuses a mode KAITO does not have, naming the four", async () => {
    expect(await refusal(["--node-provisioner", "gpu-provisioner"])).toBe(
      '--node-provisioner must be one of builtin, karpenter, azure-gpu-provisioner, byo, got "gpu-provisioner".',
    );
  });

  it("refuses flags that do not apply to the mode, before connecting anywhere", async () => {
    expect(await refusal(["--node-provisioner", "byo", "--node-class", "a.b/C/d"])).toMatch(
      /^--node-class applies to --node-provisioner karpenter only/,
    );
    expect(await refusal(["--node-provisioner", "karpenter", "--cloud", "azure"])).toMatch(
      /^--cloud applies to --node-provisioner builtin only/,
    );
    expect(await refusal(["--node-provisioner", "karpenter", "--node-class", "EC2NodeClass"])).toMatch(
      /^--node-class must be GROUP\/KIND\/NAME/,
    );
  });
});

describe("kaito controller's leader election and client flags", () => {
  const refusal = async (args: string[]) => {
    const error: unknown = await controllerCommand
      .run([...args, "--kubeconfig", "/nonexistent"], captureIO())
      .catch((e: unknown) => e);
    expect(isUserError(error), args.join(" ")).toBe(true);
    return (error as Error).message;
  };

  it("refuses lease timings that break client-go's contract, naming the rule", async () => {
    expect(await refusal(["--leader-elect-lease-duration=4s", "--leader-elect-renew-deadline=4s"])).toMatch(
      /lease duration \(4 s\) must be greater than the renew deadline \(4 s\)/,
    );
    expect(
      await refusal([
        "--leader-elect-lease-duration=4s",
        "--leader-elect-renew-deadline=1s",
        "--leader-elect-retry-period=1s",
      ]),
    ).toMatch(/renew deadline \(1 s\) must be greater than 1.2 x the retry period/);
    expect(await refusal(["--leader-elect-retry-period=soon"])).toMatch(
      /^--leader-elect-retry-period must be a duration such as 15s/,
    );
  });

  it("refuses a rate limit or timeout it cannot use", async () => {
    expect(await refusal(["--kube-api-qps=-1"])).toMatch(/^--kube-api-qps must be a number/);
    expect(await refusal(["--kube-api-burst=0"])).toMatch(/^--kube-api-burst must be a whole number/);
    expect(await refusal(["--request-timeout=forever"])).toMatch(/^--request-timeout must be a duration/);
    expect(await refusal(["--log-format=yaml"])).toMatch(/^--log-format must be text or json/);
  });

  it("accepts the short timings a test uses and gets as far as the kubeconfig", async () => {
    const message = await refusal([
      "--leader-elect-lease-duration=4s",
      "--leader-elect-renew-deadline=3s",
      "--leader-elect-retry-period=1s",
      "--kube-api-qps=0",
      "--request-timeout=1m30s",
    ]);
    expect(message).toMatch(/kubeconfig \/nonexistent does not exist/);
  });
});
