// Runs an HTTP server on its own thread, so it has one core to itself and the load generator's
// work is not counted against it: the extender, or the baseline it is measured against, a
// server that reads and parses the same JSON bodies and answers a constant (the floor that
// Node's HTTP and JSON put under any extender written in it).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import { Registry } from "prom-client";
import { startExtenderServer } from "../server.ts";
import { benchCluster } from "./dataset.ts";

const { size, baseline } = workerData as { size: number; baseline?: boolean };

async function startBaseline(): Promise<{ port: number; close: () => Promise<void> }> {
  const answer = JSON.stringify({ NodeNames: [], FailedNodes: {}, Error: "" });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      JSON.parse(Buffer.concat(chunks).toString("utf8"));
      res.writeHead(200, { "content-type": "application/json" }).end(answer);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// The baseline keeps the same cluster in its heap, so both servers pay the same garbage
// collection for it and the ratio isolates the extender's own work.
const cluster = benchCluster(size);
const server = baseline
  ? await startBaseline()
  : await startExtenderServer({
      view: cluster.view,
      registry: new Registry(),
      host: "127.0.0.1",
      port: 0,
    });
parentPort!.postMessage({ port: server.port, nodes: cluster.nodes.length });
parentPort!.on("message", (message: string) => {
  if (message === "stop") void server.close().then(() => process.exit(0));
});
