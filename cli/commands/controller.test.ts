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
