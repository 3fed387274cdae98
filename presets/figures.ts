import type { ModelFigures } from "./types.ts";

/**
 * Consistency problems in a model's architecture figures, each a phrase naming the field; empty
 * when the figures hang together. Shared by the catalogue loader and custom-model estimates.
 *
 * The parameter-count bounds catch order-of-magnitude typos: every decoder has at least its
 * embedding table and its attention projections, and a dense one has at most both embedding
 * tables plus attention and a gated MLP no wider than 8x the hidden size. `dense` is false for
 * figures a user typed in, which may describe a mixture-of-experts model.
 */
export function figureProblems(f: ModelFigures, dense: boolean): string[] {
  const problems: string[] = [];
  const integers = [
    "layers",
    "hiddenSize",
    "attentionHeads",
    "kvHeads",
    "headDim",
    "vocabSize",
    "maxContext",
  ] as const;
  for (const key of integers) {
    if (!Number.isSafeInteger(f[key]) || f[key] <= 0)
      problems.push(`${key} must be a positive integer, got ${f[key]}`);
  }
  if (!Number.isFinite(f.parameters) || f.parameters <= 0) {
    problems.push(`parameters must be a positive number, got ${f.parameters}`);
  }
  if (problems.length > 0) return problems;

  if (f.attentionHeads % f.kvHeads !== 0) {
    problems.push(`kvHeads (${f.kvHeads}) must divide attentionHeads (${f.attentionHeads})`);
  }
  const attentionWidth = f.attentionHeads * f.headDim;
  // Latent attention projects through low-rank matrices, so its width is not tied to hidden_size.
  if (
    f.kvCacheDim === undefined &&
    (attentionWidth < f.hiddenSize / 2 || attentionWidth > f.hiddenSize * 2)
  ) {
    problems.push(
      `attentionHeads x headDim (${attentionWidth}) is far from hiddenSize (${f.hiddenSize}); check headDim`,
    );
  }
  const h = f.hiddenSize;
  const attention = h * (2 * attentionWidth + 2 * f.kvHeads * f.headDim);
  const lower = f.vocabSize * h + f.layers * attention;
  if (f.parameters < lower) {
    problems.push(
      `parameters (${f.parameters.toExponential(3)}) is below the ${lower.toExponential(3)} that the embeddings and attention alone hold`,
    );
  }
  const upper = 2 * f.vocabSize * h + f.layers * (attention + 3 * h * 8 * h);
  // A mixture of experts holds far more than a dense model of its shape; what one token passes
  // through (its active parameters) is what the dense bound still limits.
  const sparse = f.activeParameters !== undefined;
  const bounded = sparse ? f.activeParameters! : f.parameters;
  if ((dense || sparse) && bounded > upper) {
    problems.push(
      `${sparse ? "activeParameters" : "parameters"} (${bounded.toExponential(3)}) is above the ${upper.toExponential(3)} a dense model of this shape can hold`,
    );
  }
  if (sparse && (!(f.activeParameters! > 0) || f.activeParameters! > f.parameters)) {
    problems.push(`activeParameters (${f.activeParameters}) must be positive and at most parameters`);
  }
  if (f.kvCacheDim !== undefined && (!Number.isSafeInteger(f.kvCacheDim) || f.kvCacheDim <= 0)) {
    problems.push(`kvCacheDim must be a positive integer, got ${f.kvCacheDim}`);
  }
  if (f.checkpointGiB !== undefined) {
    // Stored quantized: at least one bit and at most 16 bits per parameter.
    const bytesPerParameter = (f.checkpointGiB * 1024 ** 3) / f.parameters;
    if (!(bytesPerParameter >= 0.125 && bytesPerParameter <= 2.05)) {
      problems.push(
        `checkpointGiB (${f.checkpointGiB}) is ${bytesPerParameter.toFixed(2)} bytes per parameter, not a quantized checkpoint of ${f.parameters.toExponential(3)} parameters`,
      );
    }
  }
  return problems;
}
