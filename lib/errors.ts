/**
 * An error the user can fix: bad input, a missing file, an unknown name. Its message is one
 * sentence that says what to fix; the CLI prints it without a stack trace and exits non-zero.
 */
export class UserError extends Error {
  override readonly name = "UserError";
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError || (e instanceof Error && e.name === "UserError");
}

/** The message of anything thrown, for logs and status conditions. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A server that cannot take its address: a busy or forbidden port is the operator's to fix, so
 * it becomes a UserError naming the server and the address; anything else passes through.
 */
export function listenError(e: unknown, server: string, address: string): unknown {
  const text = `${(e as { code?: string } | undefined)?.code ?? ""} ${errorMessage(e)}`;
  const why = /EADDRINUSE|address already in use/i.test(text)
    ? "the address is already in use"
    : /EACCES|permission denied/i.test(text)
      ? "permission to bind it is denied"
      : /EADDRNOTAVAIL|cannot assign requested address/i.test(text)
        ? "no local interface has that address"
        : undefined;
  if (!why) return e;
  return new UserError(
    `the ${server} cannot listen on ${address}: ${why}; stop what holds it or give the server another address.`,
  );
}
