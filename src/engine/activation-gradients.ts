/**
 * RELU6's gradient from float kernels: tfjs' own builds its mask with lessEqual, step and a cast,
 * which took 11% of a MobileNetV1 training step on WASM (npm run bench:engine-profile). The same
 * mask, 1 where 0 < x <= 6: isPositive(x) - isPositive(x - 6) (float subtraction keeps the sign of
 * x - 6 exact), so the gradient is the same to the bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isPositive } from './float-masks';

let registered = false;

export function registerActivationGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: 'Relu6',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => tf.tidy(() => tf.mul(dy as tf.Tensor, tf.sub(isPositive(x), isPositive(tf.sub(x, tf.scalar(6)))))) };
    },
  });
}
