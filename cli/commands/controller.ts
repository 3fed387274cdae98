import type { Command } from "../command.ts";
import { parseCommandArgs, parseDuration } from "../args.ts";
import { UserError } from "../../lib/errors.ts";
import { logFormats, streamLogger, type LogFormat, type LogLevel } from "../../lib/log.ts";
import { loadKubeConfig } from "../../kube/config.ts";
import { KubeClient, defaultClientOptions } from "../../kube/client.ts";
import { defaultLeaderTiming, isLeadershipLost, leaderTimingProblem } from "../../kube/runtime/leader.ts";
import {
  allComponentNames,
  defaultAddresses,
  defaultSchedulerName,
  webhookComponentName,
  type OperatorComponent,
} from "../../controller/operator.ts";
import { runOperator } from "../../controller/run.ts";
import {
  azureSettingsFrom,
  defaultImage,
  loadJoinData,
  nodeLabelsPlaceholder,
  nodeTaintsPlaceholder,
} from "../../provisioner/cloud/azure/index.ts";
import { nodeProvisionerFlags, nodeProvisionerFrom, nodeProvisionerUsage } from "../node-provisioner.ts";

const usage = `Usage: npm run kaito -- controller [options]

Runs the kaito-ts manager against $KUBECONFIG (or the in-cluster service account): the Workspace
controller, the Machine provisioner, the planner's gRPC service and the scheduler extender.

Options:
  --kubeconfig FILE                 kubeconfig to use (default: $KUBECONFIG, in-cluster, ~/.kube/config)
${nodeProvisionerUsage}
  --cloud local|azure               builtin only: where Machines become nodes (default: local)
  --components LIST                 comma-separated subset of ${allComponentNames.join(",")} (default: all)
  --metrics-bind-address ADDR       Prometheus /metrics (default: ${defaultAddresses.metrics})
  --health-probe-bind-address ADDR  /healthz and /readyz (default: ${defaultAddresses.health})
  --planner-bind-address ADDR       planner gRPC service (default: ${defaultAddresses.planner})
  --extender-bind-address ADDR      scheduler extender (default: ${defaultAddresses.extender})
  --webhook-bind-address ADDR       admission webhook, HTTPS (default: 0.0.0.0:9443)
  --webhook-namespace NS            namespace of the webhook's Service and certificate Secret
                                    (default: $POD_NAMESPACE, else kaito-system)
  --webhook-service NAME            the Service the API server calls (default: kaito-webhook)
  --webhook-secret NAME             Secret holding the CA and serving certificate, created when
                                    absent (default: kaito-webhook-cert)
  --webhook-configuration NAME      the Mutating- and ValidatingWebhookConfiguration whose
                                    caBundle the leader keeps current (default: kaito-ts-workspaces)
  --leader-elect                    elect one active manager through a Lease (for several replicas)
  --leader-election-namespace NS    namespace of the Lease (default: kaito-system)
  --leader-elect-lease-duration D   how long the other replicas wait for a silent leader before
                                    taking over (default: ${defaultLeaderTiming.leaseDurationMs / 1000}s)
  --leader-elect-renew-deadline D   how long the leader keeps trying to renew before it stops
                                    acting and exits; shorter than the lease duration
                                    (default: ${defaultLeaderTiming.renewDeadlineMs / 1000}s)
  --leader-elect-retry-period D     between attempts to acquire or renew (default: ${defaultLeaderTiming.retryPeriodMs / 1000}s)
  --kube-api-qps N                  client-side limit on requests per second to the API server
                                    (default: ${defaultClientOptions.rateLimit.qps}; 0 leaves it to API Priority and Fairness)
  --kube-api-burst N                requests allowed in a burst above that (default: ${defaultClientOptions.rateLimit.burst})
  --request-timeout D               timeout of each API call that is not a watch, retries
                                    included (default: ${defaultClientOptions.timeoutMs / 1000}s)
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
  --azure-node-join-data-file FILE  azure cloud, required: the cloud-init (customData) that joins
                                    each VM to the cluster, e.g. kubeadm join with a bootstrap
                                    token (or $AZURE_NODE_JOIN_DATA_FILE, or the data itself in
                                    $AZURE_NODE_JOIN_DATA); re-read for every VM, so a rotated
                                    token is picked up. ${nodeLabelsPlaceholder} and
                                    ${nodeTaintsPlaceholder} in it become the node's kubelet
                                    --node-labels and --register-with-taints values. Not for AKS:
                                    use --node-provisioner karpenter or azure-gpu-provisioner
  --azure-endpoint URL              azure cloud: Resource Manager endpoint, https only
                                    (or $AZURE_RESOURCE_MANAGER_ENDPOINT; default
                                    https://management.azure.com)
                                    Credentials come from the Azure identity chain (environment,
                                    workload identity, managed identity, az login); a private CA
                                    for the endpoint is trusted through $NODE_EXTRA_CA_CERTS.
  --log-level debug|info|warn|error (default: info)
  --log-format text|json            text lines on a terminal, JSON lines otherwise (default)
  -h, --help                        show this help
`;

const levels: LogLevel[] = ["debug", "info", "warn", "error"];

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
        cloud: { type: "string" },
        ...nodeProvisionerFlags,
        components: { type: "string" },
        "metrics-bind-address": { type: "string", default: defaultAddresses.metrics },
        "health-probe-bind-address": { type: "string", default: defaultAddresses.health },
        "planner-bind-address": { type: "string", default: defaultAddresses.planner },
        "extender-bind-address": { type: "string", default: defaultAddresses.extender },
        "webhook-bind-address": { type: "string", default: "0.0.0.0:9443" },
        "webhook-namespace": { type: "string" },
        "webhook-service": { type: "string", default: "kaito-webhook" },
        "webhook-secret": { type: "string", default: "kaito-webhook-cert" },
        "webhook-configuration": { type: "string", default: "kaito-ts-workspaces" },
        "leader-elect": { type: "boolean", default: false },
        "leader-election-namespace": { type: "string", default: "kaito-system" },
        "leader-elect-lease-duration": {
          type: "string",
          default: `${defaultLeaderTiming.leaseDurationMs}ms`,
        },
        "leader-elect-renew-deadline": {
          type: "string",
          default: `${defaultLeaderTiming.renewDeadlineMs}ms`,
        },
        "leader-elect-retry-period": { type: "string", default: `${defaultLeaderTiming.retryPeriodMs}ms` },
        "kube-api-qps": { type: "string", default: String(defaultClientOptions.rateLimit.qps) },
        "kube-api-burst": { type: "string", default: String(defaultClientOptions.rateLimit.burst) },
        "request-timeout": { type: "string", default: `${defaultClientOptions.timeoutMs}ms` },
        "log-format": { type: "string" },
        "scheduler-name": { type: "string", default: defaultSchedulerName },
        "log-level": { type: "string", default: "info" },
        "boot-delay": { type: "string", default: "3" },
        "azure-subscription-id": { type: "string" },
        "azure-resource-group": { type: "string" },
        "azure-location": { type: "string" },
        "azure-subnet-id": { type: "string" },
        "azure-image": { type: "string" },
        "azure-node-join-data-file": { type: "string" },
        "azure-endpoint": { type: "string" },
      },
      "controller",
    );
    const nodeProvisioner = nodeProvisionerFrom(values);
    if (values.cloud !== undefined && nodeProvisioner.mode !== "builtin")
      throw new UserError(
        `--cloud applies to --node-provisioner builtin only; ${nodeProvisioner.mode} makes no nodes itself, so drop --cloud.`,
      );
    const cloud = values.cloud ?? "local";
    if (cloud !== "local" && cloud !== "azure")
      throw new UserError(`--cloud must be local or azure, got "${cloud}".`);
    const level = values["log-level"] as LogLevel;
    if (!levels.includes(level))
      throw new UserError(`--log-level must be one of ${levels.join(", ")}, got "${level}".`);
    const format = values["log-format"] as LogFormat | undefined;
    if (format !== undefined && !logFormats.includes(format))
      throw new UserError(`--log-format must be text or json, got "${format}".`);
    const timing = {
      leaseDurationMs: parseDuration(values["leader-elect-lease-duration"]!, "--leader-elect-lease-duration"),
      renewDeadlineMs: parseDuration(values["leader-elect-renew-deadline"]!, "--leader-elect-renew-deadline"),
      retryPeriodMs: parseDuration(values["leader-elect-retry-period"]!, "--leader-elect-retry-period"),
    };
    const timingProblem = leaderTimingProblem(timing);
    if (timingProblem)
      throw new UserError(
        `the --leader-elect-* durations do not fit: ${timingProblem} (client-go's rule: lease duration > renew deadline > 1.2 x retry period).`,
      );
    const qps = Number(values["kube-api-qps"]);
    const burst = Number(values["kube-api-burst"]);
    if (!(qps >= 0))
      throw new UserError(
        `--kube-api-qps must be a number of requests per second, got "${values["kube-api-qps"]}".`,
      );
    if (!(Number.isInteger(burst) && burst >= 1))
      throw new UserError(
        `--kube-api-burst must be a whole number of at least 1, got "${values["kube-api-burst"]}".`,
      );
    const timeoutMs = parseDuration(values["request-timeout"]!, "--request-timeout");
    const components = new Set<OperatorComponent>();
    for (const c of (values.components ?? allComponentNames.join(","))
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!(allComponentNames as readonly string[]).includes(c)) {
        throw new UserError(
          `--components has unknown component "${c}"; choose from ${allComponentNames.join(", ")}.`,
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
    for (const flag of [
      "webhook-namespace",
      "webhook-service",
      "webhook-secret",
      "webhook-configuration",
    ] as const) {
      const v =
        flag === "webhook-namespace"
          ? (values[flag] ?? io.env.POD_NAMESPACE ?? "kaito-system")
          : values[flag]!;
      if (!isDnsSubdomain(v)) throw new UserError(`--${flag} must be a DNS subdomain, got "${v}".`);
    }
    const webhook = components.has(webhookComponentName)
      ? {
          address: values["webhook-bind-address"]!,
          registration: {
            mode: "service" as const,
            namespace: values["webhook-namespace"] ?? io.env.POD_NAMESPACE ?? "kaito-system",
            serviceName: values["webhook-service"]!,
            secretName: values["webhook-secret"]!,
            configurationName: values["webhook-configuration"]!,
          },
        }
      : undefined;
    // Checked before connecting anywhere, so a missing flag is the error the user sees.
    const azure =
      cloud === "azure" && nodeProvisioner.mode === "builtin" ? azureSettingsFrom(values, io.env) : undefined;
    if (azure) await loadJoinData(azure.joinData);
    const client = new KubeClient(loadKubeConfig({ kubeconfig: values.kubeconfig, env: io.env }), {
      timeoutMs,
      rateLimit: qps > 0 ? { qps, burst } : false,
      userAgent: "kaito-ts/controller",
    });
    const log = streamLogger(io.stderr, { level, env: io.env, ...(format ? { format } : {}) });
    try {
      await runOperator(
        {
          client,
          cloud,
          nodeProvisioner,
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
          ...(webhook ? { webhook } : {}),
          ...(azure ? { azure } : {}),
          leaderElection: values["leader-elect"]
            ? { namespace: values["leader-election-namespace"]!, ...timing }
            : undefined,
        },
        io.signal,
      );
    } catch (e) {
      // Exit so the Deployment starts a fresh candidate, as controller-runtime's managers do.
      if (!isLeadershipLost(e)) throw e;
      io.stderr.write(`kaito controller: ${e.message}; stopped everything and exiting.\n`);
      return 1;
    } finally {
      client.close();
    }
    return 0;
  },
};
