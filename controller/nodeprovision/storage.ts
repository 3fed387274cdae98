/**
 * The OS disk a workspace's node asks for, as the `storage` request of its Machine or NodeClaim:
 * gpu-provisioner sizes the node's OS disk from it (v0.4.3 refuses a claim without one), and KAITO
 * writes it from the preset's disk requirement, or 1024 GiB for a workspace without a preset
 * (pkg/utils/nodeclaim/nodeclaim.go; pkg/workspace/controllers: its default OS disk size).
 *
 * Our presets carry the replica's GPU memory, which bounds its weights; the disk holds the runtime
 * image (vLLM's is some 20 GiB), the weights, and room to download them once more, and is at
 * least 128 GiB, AKS's OS disk for GPU sizes. Rounded up to 32 GiB.
 */
export function osDiskGiB(modelGpuMemoryGiB: number | undefined): number {
  if (modelGpuMemoryGiB === undefined) return 1024;
  const needed = 2 * modelGpuMemoryGiB + 64;
  return Math.max(128, Math.ceil(needed / 32) * 32);
}
