import type { Writable } from "node:stream";

/** What a command may touch, passed in so tests can run commands in-process. */
export interface CommandIO {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop when it fires. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `kaito --help`. */
  summary: string;
  /** The full `kaito <name> --help` text: usage line, then options. */
  usage: string;
  /** Returns the process exit code. Throw UserError for bad input. */
  run(args: string[], io: CommandIO): Promise<number>;
}
