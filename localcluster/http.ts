import https from "node:https";

export interface ApiTarget {
  server: string;
  caPem: string;
  token: string;
}

export interface ApiResponse {
  status: number;
  body: string;
}

/** One request to kube-apiserver with the admin token; no retries (callers poll). */
export function apiRequest(
  target: ApiTarget,
  method: string,
  path: string,
  body?: string,
  contentType = "application/json",
  timeoutMs = 10_000,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(path, target.server),
      {
        method,
        ca: target.caPem,
        timeout: timeoutMs,
        headers: {
          authorization: `Bearer ${target.token}`,
          accept: "application/json",
          ...(body !== undefined ? { "content-type": contentType } : {}),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}
