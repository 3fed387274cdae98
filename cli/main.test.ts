import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { Command, CommandIO } from "./command.ts";
import { runCli } from "./main.ts";
import { commands } from "./commands/index.ts";
import { UserError } from "../lib/errors.ts";

function io(): CommandIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  return {
    stdout,
    stderr,
    env: {},
    cwd: process.cwd(),
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
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
});
