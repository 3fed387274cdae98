#!/usr/bin/env node
// Entry point of `npm run kaito -- <command>`: dispatches to one module per command, prints user
// errors as one sentence on stderr, and turns SIGINT/SIGTERM into an AbortSignal.
import { commands } from "./commands/index.ts";
import type { Command, CommandIO } from "./command.ts";
import { errorMessage, isUserError } from "../lib/errors.ts";

export function helpText(list: readonly Command[]): string {
  const width = Math.max(...list.map((c) => c.name.length));
  return [
    "kaito: run AI models on right-sized Kubernetes GPU nodes.",
    "",
    "Usage: npm run kaito -- <command> [options]",
    "",
    "Commands:",
    ...list.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `npm run kaito -- <command> --help` for a command's options.",
    "",
  ].join("\n");
}

export async function runCli(
  argv: string[],
  io: CommandIO,
  list: readonly Command[] = commands,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.stdout.write(helpText(list));
    return name === undefined ? 2 : 0;
  }
  const command = list.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(
      `kaito: unknown command "${name}"; run \`npm run kaito -- --help\` to list the commands.\n`,
    );
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(command.usage.endsWith("\n") ? command.usage : `${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (isUserError(e)) {
      io.stderr.write(`kaito ${name}: ${e.message}\n`);
      return 1;
    }
    io.stderr.write(
      `kaito ${name}: internal error: ${e instanceof Error && e.stack ? e.stack : errorMessage(e)}\n`,
    );
    return 70;
  }
}

if (import.meta.main) {
  const controller = new AbortController();
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new Error(`received ${sig}`));
    });
  }
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
  });
  // Exit now rather than when the event loop drains: a manager that lost its lease may still
  // hold a socket to an API server that stopped answering, and must go so it can be restarted.
  // stdout and stderr are synchronous for files, pipes and terminals on Linux, so nothing is lost.
  process.exit(code);
}
