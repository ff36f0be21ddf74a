export interface BinaryMetrics {
  readonly n: number;
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  readonly mcc: number;
  readonly accuracy: number;
  /** Share of ham called spam. */
  readonly ham_fpr: number;
}

export function binaryMetrics(actual: ArrayLike<boolean>, predicted: ArrayLike<boolean>): BinaryMetrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    if (a && p) tp++;
    else if (!a && p) fp++;
    else if (!a && !p) tn++;
    else fn++;
  }
  const n = actual.length;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const den = Math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn));
  const mcc = den === 0 ? 0 : (tp * tn - fp * fn) / den;
  return {
    n,
    tp,
    fp,
    tn,
    fn,
    precision,
    recall,
    f1,
    mcc,
    accuracy: n === 0 ? 0 : (tp + tn) / n,
    ham_fpr: tn + fp === 0 ? 0 : fp / (tn + fp),
  };
}

export interface CategoryMetrics {
  readonly n: number;
  readonly accuracy: number;
  readonly macro_f1: number;
  readonly per_category: Record<string, { support: number; precision: number; recall: number; f1: number }>;
}

export function categoryMetrics(actual: readonly string[], predicted: readonly string[]): CategoryMetrics {
  const labels = [...new Set([...actual, ...predicted])].sort();
  const per: CategoryMetrics["per_category"] = {};
  let correct = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] === predicted[i]) correct++;
  let sumF1 = 0;
  let counted = 0;
  for (const l of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < actual.length; i++) {
      const a = actual[i] === l;
      const p = predicted[i] === l;
      if (a && p) tp++;
      else if (p) fp++;
      else if (a) fn++;
    }
    const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
    const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    per[l] = { support: tp + fn, precision, recall, f1 };
    if (tp + fn > 0) {
      sumF1 += f1;
      counted++;
    }
  }
  return {
    n: actual.length,
    accuracy: actual.length === 0 ? 0 : correct / actual.length,
    macro_f1: counted === 0 ? 0 : sumF1 / counted,
    per_category: per,
  };
}
