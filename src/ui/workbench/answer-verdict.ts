/**
 * How an answer in the disagreement gallery is marked: right or wrong against the label when the data
 * has one; with no label, neither side of a disagreement is known to be wrong, so neither is red.
 */
export type AnswerVerdict = 'right' | 'wrong' | 'unknown';

export function answerVerdict(answer: string, label: string | null): AnswerVerdict {
  if (label === null) return 'unknown';
  return answer === label ? 'right' : 'wrong';
}

/** The CSS class for a verdict (styles.css: .good, .bad, plain text for unknown). */
export const VERDICT_CLASS: Record<AnswerVerdict, string> = { right: 'good', wrong: 'bad', unknown: '' };
