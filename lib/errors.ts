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
