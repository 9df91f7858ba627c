import { describe, expect, it } from 'vitest';
import { defaultInstances } from './litert-instances';

describe('defaultInstances', () => {
  it('gives small models one instance per core (at most 4) and large ones no calibration worker', () => {
    expect(defaultInstances(2, 1.9e6)).toBe(2); // MobileNetV1 0.25
    expect(defaultInstances(8, 1.9e6)).toBe(4);
    expect(defaultInstances(4, 14e6)).toBe(4); // MobileNetV2: 3 workers of ~84 MB each fit 256 MB
    expect(defaultInstances(4, 30e6)).toBe(2);
    expect(defaultInstances(2, 55e6)).toBe(1); // pose_landmark_heavy as float32
    expect(defaultInstances(1, 1e3)).toBe(1);
  });
});
