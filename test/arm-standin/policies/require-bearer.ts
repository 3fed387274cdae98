import { armError, type Policy } from "../http.ts";

/** ARM rejects a request without a bearer token (or, when `token` is set, with another one). */
export function requireBearer(token?: string): Policy {
  return (request) => {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      return armError(
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
      );
    }
    if (token !== undefined && match[1] !== token) {
      return armError(401, "InvalidAuthenticationToken", "The access token is invalid.");
    }
    return undefined;
  };
}
