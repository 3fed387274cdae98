import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { onProcessExit } from "../lib/exit-hooks.ts";

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the command under a bash guard that is its own process-group leader. The guard reads its
 * stdin, a pipe from us: when our process dies in any way (even SIGKILL) the pipe closes and the
 * guard ends the command, so no component outlives the process that started it. Stopping signals
 * the whole group by its id, never by name.
 */
// Background jobs of a non-interactive bash get /dev/null as stdin, so the pipe is kept on fd 3
// for the watcher and closed for the component.
const guard = [
  "exec 3<&0",
  '"$0" "$@" </dev/null 3<&- & child=$!',
  'trap "kill -TERM $child 2>/dev/null" TERM INT',
  "( while read -r _ <&3; do :; done; kill -TERM $child 2>/dev/null; sleep 10; kill -KILL $child 2>/dev/null ) &",
  "exec 3<&-",
  "wait $child; status=$?; wait $child 2>/dev/null; exit $status",
].join("\n");

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly exited: Promise<ExitStatus>;
  private readonly child: ChildProcess;
  private status: ExitStatus | undefined;
  private resolveClosed: () => void = () => {};
  /** Settles once stop() has cleaned up the whole group; until then the exit hook stays armed. */
  private readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(spec: ProcessSpec) {
    this.name = spec.name;
    this.logFile = spec.logFile;
    const log = openSync(spec.logFile, "a");
    try {
      this.child = spawn("bash", ["-c", guard, spec.command, ...spec.args], {
        detached: true,
        stdio: ["pipe", log, log],
        env: spec.env ?? process.env,
      });
    } finally {
      closeSync(log);
    }
    // The guard's stdin must not keep our event loop alive, and its errors (EPIPE once the
    // guard is gone) are expected.
    this.child.stdin?.on("error", () => {});
    (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.child.unref();
    const unregister = onProcessExit(() => this.kill("SIGKILL"));
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
      this.child.once("error", () => {
        this.status = { code: 127, signal: null };
        resolve(this.status);
      });
    });
    this.exited.then(
      () => this.closed.then(unregister),
      () => {},
    );
  }

  /** The process-group id (the guard's pid). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.status === undefined;
  }

  /** Signals the whole group; members may outlive the guard, so this does not check `running`. */
  kill(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the guard has exited. */
  async stop(graceMs = 10_000): Promise<ExitStatus> {
    if (this.running) this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
      // Closing the pipe ends the guard's watcher subshell; the SIGKILL catches anything left.
      this.child.stdin?.destroy();
      if (groupAlive(this.pid)) this.kill("SIGKILL");
      this.resolveClosed();
    }
  }

  /** The last lines of the component's log, for error messages. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "";
    }
  }
}

/** Pids that are still alive in the process group `pgid` (empty when the group is gone). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
