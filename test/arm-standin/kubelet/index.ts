export {
  VmKubelets,
  gpuResource,
  isDevicePluginImage,
  registeredNode,
  startVmKubelets,
  type JoinRecord,
  type VmKubeletsOptions,
} from "./kubelet.ts";
export {
  bootstrapTokenNamespace,
  bootstrapTokenSecretName,
  bootstrapTokenSecretType,
  checkBootstrapToken,
  tokenIdOf,
  type SecretLike,
  type TokenCheck,
} from "./bootstrap-token.ts";
export { kubeadmJoinOf, parseNodeLabels, parseTaints, readUserData } from "./cloud-init.ts";
export {
  bootstrapTokenSecret,
  kubeadmJoinUserData,
  newBootstrapToken,
  type BootstrapToken,
  type BootstrapTokenSecretOptions,
} from "./fixtures.ts";
