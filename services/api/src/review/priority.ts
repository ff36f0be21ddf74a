/**
 * Queue rank: model uncertainty × reach × age against the SLA. The same formula
 * runs in SQL (for ordering and paging) and here (for tests and documentation);
 * `priority.test.ts` checks they agree.
 */
export interface PriorityInput {
  readonly score: number;
  readonly recipients: number;
  readonly reports: number;
  readonly ageHours: number;
}

/** 1 at score 0.5 (the model cannot tell), floor 0.1 so confident-but-reported cases still rank. */
export function uncertainty(score: number): number {
  return Math.max(0.1, 1 - Math.abs(score - 0.5) * 2);
}

/** Each report weighs like five recipients: a person took the trouble. Logarithmic so one huge campaign does not starve the rest. */
export function reach(recipients: number, reports: number): number {
  return Math.log(2 + recipients + 5 * reports);
}

/** Grows linearly to 4× at the SLA and caps at 7× (twice the SLA): overdue cases rise to the top. */
export function ageFactor(ageHours: number, slaHours: number): number {
  return 1 + 3 * Math.min(Math.max(ageHours, 0) / slaHours, 2);
}

export function priority(input: PriorityInput, slaHours: number): number {
  return uncertainty(input.score) * reach(input.recipients, input.reports) * ageFactor(input.ageHours, slaHours);
}

/** SQL expression of `priority` over review_cases columns; `$sla` is the SLA in hours as a bound parameter. */
export function prioritySql(slaParam: string): string {
  const age = "(EXTRACT(EPOCH FROM (now() - COALESCE(first_report_at, opened_at))) / 3600.0)";
  return `(GREATEST(0.1, 1 - abs(score - 0.5) * 2) * ln(2 + recipients + 5 * report_count) * (1 + 3 * LEAST(GREATEST(${age}, 0) / ${slaParam}, 2)))`;
}
