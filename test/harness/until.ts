/**
 * Polls `probe` until it returns something other than undefined, every `intervalMs`, for at
 * most `timeoutMs`. A probe that throws counts as "not yet" (the API server may be catching up),
 * and the last such error is part of the timeout's message, as is `what` (a function, so it can
 * describe the state it last saw).
 */
export async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const about = typeof what === "string" ? what : what();
      throw new Error(`timed out waiting for ${about}${last ? ` (last error: ${String(last)})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
