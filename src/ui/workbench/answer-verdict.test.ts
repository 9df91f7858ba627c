import { describe, expect, it } from 'vitest';
import { answerVerdict, VERDICT_CLASS } from './answer-verdict';

describe('disagreement gallery marks', () => {
  it("marks the variant's answer by the label, not red by default", () => {
    // Digit 7 labelled 7: the float model said 1, the variant 7. The variant is right here.
    expect(VERDICT_CLASS[answerVerdict('7', '7')]).toBe('good');
    expect(VERDICT_CLASS[answerVerdict('1', '7')]).toBe('bad');
    expect(VERDICT_CLASS[answerVerdict('7', null)]).toBe('');
  });
});
