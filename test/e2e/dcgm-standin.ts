// Stands in for NVIDIA's dcgm-exporter, which the local cluster's kwok nodes cannot run: the
// same metric name and label names, for the GPUs of the nodes a test names.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface StandInGpuNode {
  name: string;
  gpus: number;
  /** What dcgm-exporter puts in modelName, e.g. "Tesla V100-PCIE-16GB". */
  model: string;
  /** Percent busy, the same for every GPU of the node. */
  utilization: number;
}

export interface DcgmStandIn {
  /** host:port for a scrape config. */
  address: string;
  /** Replaces the nodes it reports. */
  serve(nodes: StandInGpuNode[]): void;
  close(): Promise<void>;
}

const quote = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

/** dcgm-exporter's exposition for the nodes: one series per GPU, Hostname naming the node. */
export function dcgmExposition(nodes: readonly StandInGpuNode[]): string {
  const lines = ["# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).", "# TYPE DCGM_FI_DEV_GPU_UTIL gauge"];
  nodes.forEach((node, n) => {
    for (let gpu = 0; gpu < node.gpus; gpu++) {
      const labels = {
        gpu: String(gpu),
        UUID: `GPU-${n.toString(16).padStart(8, "0")}-0000-0000-0000-${gpu.toString(16).padStart(12, "0")}`,
        pci_bus_id: `00000000:${(gpu + 1).toString(16).padStart(2, "0").toUpperCase()}:00.0`,
        device: `nvidia${gpu}`,
        modelName: node.model,
        Hostname: node.name,
        DCGM_FI_DRIVER_VERSION: "550.127.05",
        container: "",
        namespace: "",
        pod: "",
      };
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${quote(v)}"`)
        .join(",");
      lines.push(`DCGM_FI_DEV_GPU_UTIL{${text}} ${node.utilization}`);
    }
  });
  return `${lines.join("\n")}\n`;
}

export async function startDcgmStandIn(): Promise<DcgmStandIn> {
  let nodes: StandInGpuNode[] = [];
  const server = http.createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    res.end(dcgmExposition(nodes));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    serve(next) {
      nodes = [...next];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
