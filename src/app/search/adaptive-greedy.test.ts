import { describe, expect, it } from 'vitest';
import { adaptiveGreedy } from './adaptive-greedy';

/** The int4 stage's loop as it was before adaptiveGreedy: every trial asked, repeats included. */
async function askingEveryTime<T>(order: readonly T[], meets: (set: T[]) => Promise<boolean>, mayAsk: () => boolean): Promise<T[]> {
  let accepted: T[] = [];
  let at = 0;
  let step = 1;
  while (at < order.length && mayAsk()) {
    const trial = order.slice(at, at + step);
    if (await meets([...accepted, ...trial])) {
      accepted = [...accepted, ...trial];
      at += trial.length;
      step *= 2;
    } else if (step > 1) step = Math.max(1, Math.floor(step / 2));
    else at++;
  }
  return accepted;
}

/** An oracle: a set meets when it holds none of the bad items; it records what it was asked. */
function oracle(bad: Set<number>) {
  const asked: string[] = [];
  const meets = async (set: number[]) => {
    asked.push(set.join(','));
    return set.every((x) => !bad.has(x));
  };
  return { asked, meets };
}

describe('adaptiveGreedy', () => {
  const order = Array.from({ length: 12 }, (_, i) => i);
  const bad = new Set([0, 7]);

  it('takes every item that meets with the ones before it, as the loop that asked every time did, without asking a set twice', async () => {
    const before = oracle(bad);
    const old = await askingEveryTime(order, before.meets, () => true);
    const now = oracle(bad);
    const taken = await adaptiveGreedy(order, now.meets, () => true);
    // Every good item, the bad ones left out: what this oracle allows.
    expect(taken).toEqual(order.filter((x) => !bad.has(x)));
    expect(taken).toEqual(old);
    // The old loop asked the set 1..7 three times (missed at step 4; after a hit at step 2, 2 again;
    // after a hit at step 1, a miss at 2, then 1 again), as the search did on MobileNetV2.
    expect(before.asked.filter((s) => s === '1,2,3,4,5,6,7')).toHaveLength(3);
    expect(new Set(now.asked).size).toBe(now.asked.length);
    // Only the repeats are saved: the same sets, in the same order, once each.
    expect(now.asked).toEqual(before.asked.filter((s, i) => before.asked.indexOf(s) === i));
    expect(now.asked.length).toBeLessThan(before.asked.length);
  });

  it('a repeat costs nothing of the budget of asks: with as many asks as the distinct sets it gets as far as with no limit', async () => {
    const free = oracle(bad);
    const all = await adaptiveGreedy(order, free.meets, () => true);
    const limited = oracle(bad);
    const taken = await adaptiveGreedy(order, limited.meets, () => limited.asked.length < free.asked.length);
    expect(taken).toEqual(all);
    // One ask fewer stops it short of the last item.
    const short = oracle(bad);
    const less = await adaptiveGreedy(order, short.meets, () => short.asked.length < free.asked.length - 1);
    expect(short.asked.length).toBe(free.asked.length - 1);
    expect(less.length).toBeLessThan(all.length);
  });

  it('an item that fails alone is skipped and an empty order asks nothing', async () => {
    const o = oracle(new Set([0, 1, 2]));
    expect(await adaptiveGreedy([0, 1, 2], o.meets, () => true)).toEqual([]);
    expect(o.asked).toEqual(['0', '1', '2']);
    const none = oracle(new Set());
    expect(await adaptiveGreedy([], none.meets, () => true)).toEqual([]);
    expect(none.asked).toEqual([]);
  });
});
