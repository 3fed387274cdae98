export type ExtenderRequestErrorCode =
  "MalformedJson" | "InvalidRequest" | "TooLarge" | "NotFound" | "MethodNotAllowed";

const statusOf: Record<ExtenderRequestErrorCode, number> = {
  MalformedJson: 400,
  InvalidRequest: 400,
  TooLarge: 413,
  NotFound: 404,
  MethodNotAllowed: 405,
};

/** A request the extender refuses; the message, sent back as the response body, says what is wrong. */
export class ExtenderRequestError extends Error {
  override readonly name = "ExtenderRequestError";
  readonly code: ExtenderRequestErrorCode;
  readonly statusCode: number;

  constructor(code: ExtenderRequestErrorCode, message: string) {
    super(message);
    this.code = code;
    this.statusCode = statusOf[code];
  }
}

export function isExtenderRequestError(e: unknown): e is ExtenderRequestError {
  return e instanceof ExtenderRequestError || (e instanceof Error && e.name === "ExtenderRequestError");
}
