import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Synchronous clean-ups that must run however the process ends normally (including an uncaught
 * error or process.exit): the last line of defence against orphaned processes and temp dirs.
 * Returns a function that unregisters the hook.
 */
const hooks = new Set<() => void>();
let installed = false;

export function onProcessExit(hook: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on("exit", () => {
      for (const h of [...hooks]) {
        try {
          h();
        } catch {
          // Keep running the others.
        }
      }
    });
  }
  hooks.add(hook);
  return () => hooks.delete(hook);
}

/**
 * A new temporary directory that is removed by `remove()`, or when the process exits if nobody
 * called it: for the scratch space of processes a test or `kaito up` starts.
 */
export function scratchDirectory(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const removeNow = () => rmSync(dir, { recursive: true, force: true });
  const unregister = onProcessExit(removeNow);
  return {
    dir,
    remove: () => {
      removeNow();
      unregister();
    },
  };
}
