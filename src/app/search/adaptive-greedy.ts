/**
 * Greedy growth of a set along a fixed order with an adaptive step (the search's int4 stage): add the
 * next `step` items; when the grown set meets, keep it and double the step; when it does not, halve
 * the step, and an item that fails alone is skipped (it stays out) so the ones after it still get
 * their chance.
 *
 * A set is asked about once. After a miss at step s and a hit at s / 2, the next step of s / 2 again
 * adds the items that missed with them: the same set, the same verdict (bench:search, MobileNetV2:
 * ops 1-8 evaluated three times in 15 evaluations). Such a repeat costs no call; the step logic goes
 * on as if it had been asked.
 */
export async function adaptiveGreedy<T>(order: readonly T[], meets: (set: T[]) => Promise<boolean>, mayAsk: () => boolean): Promise<T[]> {
  const verdicts = new Map<string, boolean>();
  let accepted: number[] = [];
  let at = 0;
  let step = 1;
  while (at < order.length) {
    const trial = Array.from({ length: Math.min(step, order.length - at) }, (_, k) => at + k);
    const positions = [...accepted, ...trial];
    const key = positions.join(',');
    let met = verdicts.get(key);
    if (met === undefined) {
      if (!mayAsk()) break;
      met = await meets(positions.map((i) => order[i]));
      verdicts.set(key, met);
    }
    if (met) {
      accepted = positions;
      at += trial.length;
      step *= 2;
    } else if (step > 1) step = Math.max(1, Math.floor(step / 2));
    else at++;
  }
  return accepted.map((i) => order[i]);
}
