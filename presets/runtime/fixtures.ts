import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** For tests: the cluster a launch wrapper sees while it runs under `runLaunch`. */
export interface LaunchWorld {
  /** GPUs the Ray cluster reports before the first `sleep`. */
  readonly gpus?: number;
  /** GPUs that join during each `sleep`; the Ray head also answers health checks after the first. */
  readonly gpusPerSleep?: number;
}

// Each stand-in appends its name and arguments, tab-separated, to $LAUNCH_LOG. `sleep` moves
// the world on instead of waiting, so the wrapper's wait loops run at once and can be counted.
const stubs: Record<string, string> = {
  ray: `log ray "$@"; if [ "$1" = health-check ]; then [ -f "$LAUNCH_STATE/up" ]; fi`,
  python3: `log python3 "$@"; if [ "$1" = -c ]; then cat "$LAUNCH_STATE/gpus"; fi`,
  accelerate: `log accelerate "$@"`,
  sleep: `log sleep "$@"; echo $(( $(cat "$LAUNCH_STATE/gpus") + LAUNCH_GPUS_PER_SLEEP )) > "$LAUNCH_STATE/gpus"; touch "$LAUNCH_STATE/up"`,
};
const logFn = `log() { { printf '%s' "$1"; shift; for a in "$@"; do printf '\\t%s' "$a"; done; echo; } >> "$LAUNCH_LOG"; }`;

/**
 * For tests: runs a container's command and args under /bin/sh with `env` and stand-ins for the
 * programs a launch wrapper calls (ray, python3, accelerate, sleep), and returns their calls in
 * order, each as [program, ...args]. A wrapper that exits non-zero throws, with its stderr.
 */
export function runLaunch(
  command: readonly string[],
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  world: LaunchWorld = {},
): string[][] {
  const dir = mkdtempSync(path.join(tmpdir(), "kaito-launch-"));
  try {
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    for (const [name, body] of Object.entries(stubs)) {
      writeFileSync(path.join(bin, name), `#!/bin/sh\n${logFn}\n${body}\n`);
      chmodSync(path.join(bin, name), 0o755);
    }
    const log = path.join(dir, "calls");
    writeFileSync(log, "");
    writeFileSync(path.join(dir, "gpus"), `${world.gpus ?? 0}\n`);
    execFileSync(command[0]!, [...command.slice(1), ...args], {
      env: {
        ...env,
        PATH: `${bin}:/usr/bin:/bin`,
        LAUNCH_LOG: log,
        LAUNCH_STATE: dir,
        LAUNCH_GPUS_PER_SLEEP: String(world.gpusPerSleep ?? 0),
      },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 10_000,
    });
    return readFileSync(log, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.split("\t"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
