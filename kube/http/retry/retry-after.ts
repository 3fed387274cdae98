import type { IncomingHttpHeaders } from "node:http";

/**
 * The delay a Retry-After header asks for, in ms: delay-seconds or an HTTP date (RFC 9110
 * section 10.2.3), judged against `nowMs`. A date in the past is no delay; a header that is
 * neither is undefined.
 */
export function retryAfterMs(headers: IncomingHttpHeaders, nowMs: number): number | undefined {
  const raw = headers["retry-after"];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  // An HTTP date names its weekday and month; Date.parse alone would take "-3" for a year.
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
