/**
 * npm run bench:float-spread [-- MODEL IMAGE]
 *
 * How far float32 implementations of the same model drift apart: the engine on tfjs' WASM backend,
 * the engine on tfjs' CPU backend, and LiteRT, on a real photo. Per output: max |a - b| / max |b|.
 * It is the evidence behind the one model (pose_landmark_lite_fp16, 305 ops) whose engine-vs-LiteRT
 * error exceeds 1e-4: tfjs' two backends differ from each other by about as much.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { decodeImage } from '../src/data/image-decode';
import { preprocessImage } from '../src/data/preprocess';
import { initNodeEngine } from '../src/engine/backend-node';
import { engineOutputs } from '../src/engine/engine-test-support';
import { GraphExecutor } from '../src/engine/executor';
import { loadModel } from '../src/runtime/load';
import { initRuntime } from '../src/runtime/start';
import { dataDir, readSharedModel } from '../src/test-support/shared';
import { readModel } from '../src/tflite/read';

const modelName = process.argv[2] ?? 'pose_landmark_lite_fp16.tflite';
const imageNames = process.argv[3] ? [process.argv[3]] : ['grace_hopper.jpg', 'cats_and_dogs.jpg'];
await initNodeEngine();
await initRuntime();
const bytes = readSharedModel(modelName);
const graph = readModel(bytes);
const model = await loadModel(bytes);
const [, height, width, channels] = model.inputs[0].shape;
const relative = (a: Float32Array, b: ArrayLike<number>) => {
  let err = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return (ref ? err / ref : err).toExponential(1);
};
console.log(`${modelName}: max |a - b| / max |b| per output (Node ${process.version}, tfjs 4.22, LiteRT.js 2.5.3)`);
console.log('| image | output | engine WASM vs LiteRT | engine CPU vs LiteRT | engine WASM vs engine CPU |');
console.log('|---|---|---|---|---|');
for (const imageName of imageNames) {
  const image = decodeImage(new Uint8Array(readFileSync(join(dataDir, 'sample_images', imageName))), imageName);
  const input = preprocessImage(image, { width, height, channels: channels as 1 | 3, channelOrder: 'RGB', mean: [0], std: [255], resize: 'bilinear' });
  const reference = await model.run([input]);
  await tf.setBackend('wasm');
  const wasm = await engineOutputs(new GraphExecutor(graph), graph, model, [[input]]);
  await tf.setBackend('cpu');
  const cpu = await engineOutputs(new GraphExecutor(graph), graph, model, [[input]]);
  reference.forEach((r, o) => {
    const ref = r.data as Float32Array;
    console.log(`| ${imageName} | ${model.outputs[o].name} ${r.shape.join('x')} | ${relative(wasm[o].values, ref)} | ${relative(cpu[o].values, ref)} | ${relative(wasm[o].values, cpu[o].values)} |`);
  });
}
