// Command lines of the upstream components. Pure functions of their inputs, so the flags can be
// read and tested without starting anything.

export interface EtcdPorts {
  client: number;
  peer: number;
}

export function etcdArgs(dataDir: string, ports: EtcdPorts): string[] {
  const client = `http://127.0.0.1:${ports.client}`;
  const peer = `http://127.0.0.1:${ports.peer}`;
  return [
    "--name=kaito-local",
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=kaito-local=${peer}`,
    "--unsafe-no-fsync=true", // a throwaway cluster: losing writes on power loss is fine, speed is not
    "--quota-backend-bytes=4294967296",
    "--log-level=warn",
  ];
}

export interface ApiServerInput {
  etcdPort: number;
  port: number;
  certDir: string;
  tokenFile: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
}

export function apiServerArgs(i: ApiServerInput): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${i.etcdPort}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    // 1.37 refuses a loopback advertise address for the endpoints of the `kubernetes` Service;
    // nothing in a loopback cluster dials that Service, so it gets no endpoints.
    "--endpoint-reconciler-type=none",
    `--secure-port=${i.port}`,
    `--cert-dir=${i.certDir}`,
    `--token-auth-file=${i.tokenFile}`,
    "--authorization-mode=RBAC",
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${i.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${i.serviceAccountPrivateKey}`,
    "--service-cluster-ip-range=10.96.0.0/16",
    "--allow-privileged=true",
    "--profiling=false",
    "--v=0",
  ];
}

export interface ControllerManagerInput {
  kubeconfig: string;
  port: number;
  serviceAccountPrivateKey: string;
  rootCaFile: string;
}

export function controllerManagerArgs(i: ControllerManagerInput): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${i.port}`,
    "--leader-elect=false",
    `--service-account-private-key-file=${i.serviceAccountPrivateKey}`,
    `--root-ca-file=${i.rootCaFile}`,
    "--use-service-account-credentials=false",
    // kwok nodes bring their own pod IPs; node IPAM would only log that no cluster CIDR is set.
    "--controllers=*,-node-ipam-controller",
    "--profiling=false",
    "--v=0",
  ];
}

export interface SchedulerInput {
  kubeconfig: string;
  port: number;
  configFile?: string;
}

export function schedulerArgs(i: SchedulerInput): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${i.port}`,
    ...(i.configFile ? [`--config=${i.configFile}`] : ["--leader-elect=false"]),
    "--profiling=false",
    "--v=0",
  ];
}

/** kwok only plays the nodes marked with this annotation, so real kubelets could coexist. */
export const kwokNodeAnnotation = "kwok.x-k8s.io/node";

export interface KwokInput {
  kubeconfig: string;
  port: number;
  configFile?: string;
}

export function kwokArgs(i: KwokInput): string[] {
  return [
    `--kubeconfig=${i.kubeconfig}`,
    `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
    "--cidr=10.244.0.0/16",
    "--node-ip=127.0.0.1",
    `--server-address=127.0.0.1:${i.port}`,
    ...(i.configFile ? [`--config=${i.configFile}`] : []),
  ];
}
