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
