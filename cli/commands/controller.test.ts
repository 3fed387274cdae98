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
