import { PassThrough } from "node:stream";
import type { CommandIO } from "./command.ts";

export type CapturedIO = CommandIO & { out: () => string; err: () => string };

/** CommandIO whose stdout and stderr are captured, for running commands in-process in tests. */
export function captureIO(cwd = process.cwd()): CapturedIO {
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
    cwd,
    signal: new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}
