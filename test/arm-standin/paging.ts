import type { StandinRequest } from "./http.ts";

const SKIP_TOKEN = "$skiptoken";

/**
 * One page of `items` for the request, ARM style: {"value": [...], "nextLink": absolute URL}.
 * The continuation is an offset in $skiptoken; the rest of the query (api-version, $filter)
 * is carried over, as ARM does.
 */
export function page<T>(
  request: StandinRequest,
  items: readonly T[],
  pageSize: number,
): { value: T[]; nextLink?: string } {
  const raw = request.query.get(SKIP_TOKEN);
  const offset = raw === null ? 0 : Number(raw);
  const start = Number.isInteger(offset) && offset >= 0 ? offset : 0;
  const end = start + pageSize;
  const value = items.slice(start, end);
  if (end >= items.length) return { value };
  const pairs = [...request.query].filter(([k]) => k !== SKIP_TOKEN);
  pairs.push([SKIP_TOKEN, String(end)]);
  // ARM writes OData's "$" names unescaped ($filter, $skiptoken); so do we.
  const query = pairs.map(
    ([k, v]) => `${encodeURIComponent(k).replace(/^%24/, "$")}=${encodeURIComponent(v)}`,
  );
  const next = new URL(request.path, request.origin);
  return { value, nextLink: `${next.origin}${next.pathname}?${query.join("&")}` };
}
