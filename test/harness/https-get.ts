import https from "node:https";

/**
 * GET over HTTPS without verifying the server's certificate: for servers that make their own at
 * start (the manager's /metrics with --endpoint-auth), as Prometheus's insecure_skip_verify does.
 */
export function httpsGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { headers, rejectUnauthorized: false, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
  });
}
