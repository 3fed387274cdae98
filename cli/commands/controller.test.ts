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
