/** Weight tying survives re-storing: two ops that shared one float buffer share one stored buffer. */
import { describe, expect, it } from 'vitest';
import { readSharedModel } from '../../test-support/shared';
import { sharedBuffers } from '../../tflite/queries';
import { readModel } from '../../tflite/read';
import { writeModel } from '../../tflite/write';
import { checkRuns } from '../pipeline';
import { quantizeDynamicRange } from './dynamic';
import { quantizeFloat16 } from './float16';
import { quantizeWeightOnly } from './weight-only';

describe('shared weights', () => {
  const name = 'ops/weight_sharing_fcs.tflite';

  it('stay one buffer through float16, weight-only int8 and dynamic range, and the models run', async () => {
    const source = readSharedModel(name);
    const graph = readModel(source);
    expect(sharedBuffers(graph)).toHaveLength(1);
    for (const result of [quantizeFloat16(graph).graph, quantizeWeightOnly(graph, { perChannel: true, minElements: 0 }).graph, quantizeDynamicRange(graph, { perChannel: true, minElements: 0 }).graph]) {
      const bytes = writeModel(result);
      expect(sharedBuffers(readModel(bytes))).toHaveLength(1);
      expect(bytes.length).toBeLessThan(source.length);
      await checkRuns(bytes);
    }
  });
});
