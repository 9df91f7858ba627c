/** Seeded random model inputs: the same seed gives the same data in Node and in the browser. */
import { seededRandom } from '../seeded-random';
import { elementCount } from '../tflite/shape';
import { TYPED_ARRAYS, type LoadedModel, type RuntimeData, type RuntimeDType } from './types';

/**
 * Seeded random inputs, one per model input: float in [-1, 1), uint8 0..255, int8 -128..127,
 * int16 -32768..32767 (the full quantized ranges), int32 0..99 (token-id-like). Same seed, same data.
 */
export function randomInputs(model: Pick<LoadedModel, 'inputs'>, seed: number): RuntimeData[] {
  const random = seededRandom(seed);
  return model.inputs.map((info) => {
    const data = new TYPED_ARRAYS[info.dtype](elementCount(info.shape));
    const [low, high] = RANDOM_RANGE[info.dtype];
    for (let i = 0; i < data.length; i++) {
      const r = random();
      data[i] = info.dtype === 'float32' ? low + r * (high - low) : Math.floor(low + r * (high - low + 1));
    }
    return data;
  });
}

const RANDOM_RANGE: Record<RuntimeDType, [number, number]> = {
  float32: [-1, 1],
  int32: [0, 99],
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
};
