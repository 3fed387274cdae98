import { describe, expect, it } from "vitest";
import type { Command } from "./command.ts";
import { runCli } from "./main.ts";
import { commands } from "./commands/index.ts";
import { UserError } from "../lib/errors.ts";
import { captureIO, type CapturedIO } from "./test-io.ts";

function io(): CapturedIO {
  return captureIO();
}

const failing: Command = {
  name: "fail",
  summary: "always fails",
  usage: "Usage: fail",
  run: async () => {
    throw new UserError("the file x.yaml does not exist; pass an existing file.");
  },
};

describe("kaito CLI", () => {
  it("lists every command in --help", async () => {
    const t = io();
    expect(await runCli(["--help"], t)).toBe(0);
    for (const c of commands) expect(t.out()).toContain(c.name);
  });

  it("prints each command's usage for --help without running it", async () => {
    for (const c of commands) {
      const t = io();
      expect(await runCli([c.name, "--help"], t)).toBe(0);
      expect(t.out()).toMatch(/^Usage: npm run kaito -- /);
    }
  });

  it("rejects an unknown command with one sentence", async () => {
    const t = io();
    expect(await runCli(["nope"], t)).toBe(2);
    expect(t.err().trim().split("\n")).toHaveLength(1);
    expect(t.err()).toContain('unknown command "nope"');
  });

  it("prints a user error as one line without a stack trace", async () => {
    const t = io();
    expect(await runCli(["fail"], t, [failing])).toBe(1);
    expect(t.err()).toBe("kaito fail: the file x.yaml does not exist; pass an existing file.\n");
  });

  it.each([
    [
      ["estimate", "foo"],
      "kaito estimate: Unexpected argument 'foo'; run `npm run kaito -- estimate --help` for the options.\n",
    ],
    [
      ["plan", "--bogus"],
      "kaito plan: Unknown option '--bogus'; run `npm run kaito -- plan --help` for the options.\n",
    ],
    [
      ["presets", "-o"],
      "kaito presets: Option '-o, --output <value>' argument missing; run `npm run kaito -- presets --help` for the options.\n",
    ],
  ])("answers bad arguments to %j with one sentence", async (args, message) => {
    const t = io();
    expect(await runCli(args, t)).toBe(1);
    expect(t.err()).toBe(message);
  });
});
