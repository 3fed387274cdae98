import type { Command } from "../command.ts";
import { parseCommandArgs } from "../args.ts";
import { UserError } from "../../lib/errors.ts";
import { jsonLogger, type LogLevel } from "../../lib/log.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { KubeClient } from "../../kube/client.ts";
import {
  componentNames,
  defaultAddresses,
  defaultSchedulerName,
  type OperatorComponent,
} from "../../controller/operator.ts";
import { runOperator } from "../../controller/run.ts";
import { azureSettingsFrom, defaultImage } from "../../provisioner/cloud/azure/index.ts";

const usage = `Usage: npm run kaito -- controller [options]

Runs the kaito-ts manager against $KUBECONFIG (or the in-cluster service account): the Workspace
controller, the Machine provisioner, the planner's gRPC service and the scheduler extender.

Options:
  --kubeconfig FILE                 kubeconfig to use (default: $KUBECONFIG, in-cluster, ~/.kube/config)
  --cloud local|azure               where Machines become nodes (default: local)
  --components LIST                 comma-separated subset of ${componentNames.join(",")} (default: all)
  --metrics-bind-address ADDR       Prometheus /metrics (default: ${defaultAddresses.metrics})
  --health-probe-bind-address ADDR  /healthz and /readyz (default: ${defaultAddresses.health})
  --planner-bind-address ADDR       planner gRPC service (default: ${defaultAddresses.planner})
  --extender-bind-address ADDR      scheduler extender (default: ${defaultAddresses.extender})
  --leader-elect                    elect one active manager through a Lease (for several replicas)
  --leader-election-namespace NS    namespace of the Lease (default: kaito-system)
  --scheduler-name NAME             spec.schedulerName of the workspace pods (default:
                                    ${defaultSchedulerName}); kaito-scheduler when deploy/scheduler
                                    runs the extender beside a second kube-scheduler
  --boot-delay SECONDS              local cloud only: how long a new node takes to boot (default: 3)
  --azure-subscription-id ID        azure cloud: subscription of the VMs (or $AZURE_SUBSCRIPTION_ID)
  --azure-resource-group NAME       azure cloud: resource group of the VMs (or $AZURE_RESOURCE_GROUP)
  --azure-location REGION           azure cloud: region of the VMs, e.g. eastus (or $AZURE_LOCATION)
  --azure-subnet-id ID              azure cloud: ARM id of the node subnet (or $AZURE_SUBNET_ID)
  --azure-image IMAGE               azure cloud: publisher:offer:sku:version or image id
                                    (or $AZURE_NODE_IMAGE; default ${defaultImage})
  --azure-endpoint URL              azure cloud: Resource Manager endpoint, https only
                                    (or $AZURE_RESOURCE_MANAGER_ENDPOINT; default
                                    https://management.azure.com)
                                    Credentials come from the Azure identity chain (environment,
                                    workload identity, managed identity, az login); a private CA
                                    for the endpoint is trusted through $NODE_EXTRA_CA_CERTS.
  --hf-endpoint URL                 the Hugging Face Hub that sizes models named by their id
                                    (or $HF_ENDPOINT; default https://huggingface.co)
  --log-level debug|info|warn|error (default: info)
  -h, --help                        show this help
`;

const levels: LogLevel[] = ["debug", "info", "warn", "error"];

/** --hf-endpoint / HF_ENDPOINT, checked before anything starts. */
export function hubEndpoint(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:"))
    throw new UserError(
      `--hf-endpoint must be an http(s) URL such as https://huggingface.co, got "${value}".`,
    );
  return value;
}

function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name);
}

export const controllerCommand: Command = {
  name: "controller",
  summary: "run the operator (controllers, planner, extender) against a cluster",
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      {
        kubeconfig: { type: "string" },
        cloud: { type: "string", default: "local" },
        components: { type: "string" },
        "metrics-bind-address": { type: "string", default: defaultAddresses.metrics },
        "health-probe-bind-address": { type: "string", default: defaultAddresses.health },
        "planner-bind-address": { type: "string", default: defaultAddresses.planner },
        "extender-bind-address": { type: "string", default: defaultAddresses.extender },
        "leader-elect": { type: "boolean", default: false },
        "leader-election-namespace": { type: "string", default: "kaito-system" },
        "scheduler-name": { type: "string", default: defaultSchedulerName },
        "log-level": { type: "string", default: "info" },
        "boot-delay": { type: "string", default: "3" },
        "azure-subscription-id": { type: "string" },
        "azure-resource-group": { type: "string" },
        "azure-location": { type: "string" },
        "azure-subnet-id": { type: "string" },
        "azure-image": { type: "string" },
        "azure-endpoint": { type: "string" },
        "hf-endpoint": { type: "string" },
      },
      "controller",
    );
    const cloud = values.cloud;
    if (cloud !== "local" && cloud !== "azure")
      throw new UserError(`--cloud must be local or azure, got "${cloud}".`);
    const level = values["log-level"] as LogLevel;
    if (!levels.includes(level))
      throw new UserError(`--log-level must be one of ${levels.join(", ")}, got "${level}".`);
    const components = new Set<OperatorComponent>();
    for (const c of (values.components ?? componentNames.join(","))
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!(componentNames as readonly string[]).includes(c)) {
        throw new UserError(
          `--components has unknown component "${c}"; choose from ${componentNames.join(", ")}.`,
        );
      }
      components.add(c as OperatorComponent);
    }
    const schedulerName = values["scheduler-name"]!;
    // The API server would refuse every workspace pod; better to refuse the flag.
    if (!isDnsSubdomain(schedulerName))
      throw new UserError(
        `--scheduler-name must be a DNS subdomain (lowercase letters, digits, "-" and "."), got "${schedulerName}".`,
      );
    const bootDelaySeconds = Number(values["boot-delay"]);
    if (!(bootDelaySeconds >= 0))
      throw new UserError(`--boot-delay must be a number of seconds, got "${values["boot-delay"]}".`);
    // Checked before connecting anywhere, so a missing flag is the error the user sees.
    const azure = cloud === "azure" ? azureSettingsFrom(values, io.env) : undefined;
    const hfEndpoint = hubEndpoint(values["hf-endpoint"] ?? io.env.HF_ENDPOINT);
    const client = new KubeClient(loadKubeConfig({ kubeconfig: values.kubeconfig, env: io.env }));
    const log = jsonLogger({ level, write: (line) => io.stderr.write(line) });
    try {
      await runOperator(
        {
          client,
          cloud,
          components,
          log,
          addresses: {
            metrics: values["metrics-bind-address"]!,
            health: values["health-probe-bind-address"]!,
            planner: values["planner-bind-address"]!,
            extender: values["extender-bind-address"]!,
          },
          localBootDelayMs: bootDelaySeconds * 1000,
          schedulerName,
          hfEndpoint,
          ...(azure ? { azure } : {}),
          leaderElection: values["leader-elect"]
            ? { namespace: values["leader-election-namespace"]! }
            : undefined,
        },
        io.signal,
      );
    } finally {
      client.close();
    }
    return 0;
  },
};
