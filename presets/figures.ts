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
  if (attentionWidth < f.hiddenSize / 2 || attentionWidth > f.hiddenSize * 2) {
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
  if (dense && f.parameters > upper) {
    problems.push(
      `parameters (${f.parameters.toExponential(3)}) is above the ${upper.toExponential(3)} a dense model of this shape can hold`,
    );
  }
  return problems;
}
