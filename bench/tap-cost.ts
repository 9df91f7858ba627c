/**
 * npm run bench:tap-cost [-- MODEL]
 *
 * What getting the activations' statistics out of a LiteRT run costs (the calibration paths): a
 * plain run; every float activation copied out, packed into one output (RESHAPE + CONCATENATION,
 * runtime/taps.ts) or as separate outputs; and the reduced model of src/optimize/calibrate/runs/reduced-in-litert.ts (min,
 * max and channel sums computed inside the run, a few thousand numbers out). Mean time of 300 runs
 * after 30 warm-up runs, 3 rounds (the spread is the point).
 */
import { loadModel } from '../src/runtime/load';
import { randomInputs } from '../src/runtime/random-inputs';
import { initRuntime } from '../src/runtime/start';
import { isActivation, loadTapped } from '../src/runtime/taps';
import { calibrationTensors } from '../src/optimize/calibrate/calibrate';
import { withReductions } from '../src/optimize/calibrate/runs/reduced-in-litert';
import { readSharedModel } from '../src/test-support/shared';
import { producers } from '../src/tflite/queries';
import { readModel } from '../src/tflite/read';
import { TensorType } from '../src/tflite/schema/generated/tflite_generated';

const name = process.argv[2] ?? 'audio_event_527_float.tflite';
await initRuntime();
const bytes = readSharedModel(name);
const graph = readModel(bytes);
const subgraph = graph.subgraphs[0];
const producer = producers(subgraph);
const select = (t: number) => subgraph.tensors[t]?.type === TensorType.FLOAT32 && isActivation(graph, subgraph, t, producer);
const plain = await loadModel(bytes);
const inputs = randomInputs(plain, 1);
const packed = await loadTapped(graph, { select, pack: true });
const separate = await loadTapped(graph, { select, pack: false });
// The reduced model as calibration builds it (its taps and channel-sum tensors).
const { tapped, meanTensors } = calibrationTensors(graph);
const reduced = withReductions(graph, tapped, meanTensors.filter((t) => !subgraph.inputs.includes(t)));
const summary = await loadTapped(reduced.graph, { select: (t) => t === reduced.summary, pack: false });
const msPerRun = async (run: () => Promise<unknown>, n = 300) => {
  for (let i = 0; i < 30; i++) await run();
  const started = performance.now();
  for (let i = 0; i < n; i++) await run();
  return (performance.now() - started) / n;
};
console.log(`${name}: ${packed.taps.length} taps; reduced: ${reduced.taps.length} activations, ${reduced.sums.length} channel sums, ${reduced.length} values out (Node ${process.version}, LiteRT.js 2.5.3 wasm)`);
for (let round = 1; round <= 3; round++) {
  const p = await msPerRun(() => plain.run(inputs));
  const k = await msPerRun(() => packed.run(inputs));
  const s = await msPerRun(() => separate.run(inputs));
  const r = await msPerRun(() => summary.run(inputs));
  const x = (ms: number) => `${ms.toFixed(3)} ms (${(ms / p).toFixed(2)}x)`;
  console.log(`round ${round}: plain ${p.toFixed(3)} ms, packed taps ${x(k)}, separate taps ${x(s)}, reduced ${x(r)}`);
}
