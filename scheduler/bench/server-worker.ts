// Runs the extender's HTTP server on its own thread, so it has one core to itself and the load
// generator's work is not counted against it.
import { parentPort, workerData } from "node:worker_threads";
import { Registry } from "prom-client";
import { startExtenderServer } from "../server.ts";
import { benchCluster } from "./dataset.ts";

const { size } = workerData as { size: number };
const { view } = benchCluster(size);
const server = await startExtenderServer({ view, registry: new Registry(), host: "127.0.0.1", port: 0 });
parentPort!.postMessage({ port: server.port });
parentPort!.on("message", (message: string) => {
  if (message === "stop") void server.close().then(() => process.exit(0));
});
