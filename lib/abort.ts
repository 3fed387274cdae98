/**
 * Resolves when the signal aborts. Unlike `once(signal, "abort")`, it holds the event loop open
 * meanwhile: a foreground command waiting for SIGINT has nothing else keeping Node alive.
 */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 1 << 30);
    signal.addEventListener(
      "abort",
      () => {
        clearInterval(keepAlive);
        resolve();
      },
      { once: true },
    );
  });
}
