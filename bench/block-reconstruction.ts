/**
 * bench/block-reconstruction: does block reconstruction with learned rounding (AdaRound's relaxation
 * fit per block, as BRECQ does) beat the W4A8 PTQ model's GPTQ rounding on MobileNetV1 0.25? An
 * experiment for #12's QAT item, not a technique the workbench offers (bench/README.md has the answer:
 * not at the iterations this machine affords).
 *
 * 1. PTQ: the default W4A8 recipe (CLE, GPTQ, int4 scales by output error, output bias correction,
 *    smallest layers int8), calibrated on images 0..calib-1.
 * 2. Each int4 op with the op before it is a block. Its input: the quantized model's (simulated in the
 *    engine, with the blocks before it already reconstructed); its target: the float model's output
 *    there, mapped into the PTQ model's CLE frame (OptimizeResult.channelScales / channelShifts).
 * 3. The block's int4 weights are w = s * clamp(base + h, -8, 7), h = clip(1.2 sigmoid(V) - 0.1, 0, 1)
 *    (AdaRound's rectified sigmoid), activations fake-quantized at the PTQ ranges (straight-through),
 *    trained by Adam on the block's squared error (summed over channels) plus lambda * sum(1 - |2h - 1|^beta),
 *    beta 20 -> 2 after a 20% warm-up without it; the bias trains too at its own rate. Then the offset is
 *    rounded to the nearest integer.
 *      --init float: base = floor(w_float / s), h from the fraction (AdaRound; w_float: the float
 *                    model's weights in the CLE frame, W * S_in / S_out);
 *      --init gptq:  base = the GPTQ integers, offset h1 - h2 from h0 each (moves of one step either way);
 *      --init lsq:   no relaxation: block-wise QAT, the int4 weights hard in the forward pass (LSQ,
 *                    straight-through), the weights, their steps and the bias trained (new steps written).
 * 4. The new integers and biases go into the PTQ file as they are (int4 packed, int32 biases at the PTQ's
 *    scales); top-1 of PTQ and the reconstructed model in LiteRT on images calib..calib+eval-1.
 * Each block prints its error (the objective, on all reconstruction images) before (GPTQ) and after.
 * Run: npm run bench:block-reconstruction [-- --iters 1000 --batch 16 --lr 1e-2 --lambda 0.01 --bias-lr 1e-4 --init float|gptq|lsq --h0 0.1 --harden round|gptq --blocks 9 --calib 100 --eval 400]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initNodeEngine } from '../src/engine/backend-node';
import { constantValues } from '../src/engine/constants';
import { GraphExecutor, tensorFakeQuant } from '../src/engine/executor';
import { fakeQuantizeSte } from '../src/engine/fake-quant';
import { lsqQuantize } from '../src/engine/lsq';
import { compareModels } from '../src/evaluate/compare';
import { optimizeModel, type OptimizeResult } from '../src/optimize/pipeline';
import { constantAsFloat32 } from '../src/optimize/quantize/fold-dequantize';
import { packInt4, quantizeInt4 } from '../src/optimize/quantize/int4';
import { bytesOf, quantizeBias, type QuantParams } from '../src/optimize/quantize/params';
import { gptqGroup } from '../src/optimize/rounding/gptq';
import { layoutOf } from '../src/optimize/rounding/problem';
import { defaultRecipe, type Recipe } from '../src/optimize/recipe';
import type { Sample } from '../src/runtime/samples';
import { initRuntime } from '../src/runtime/start';
import { seededRandom } from '../src/seeded-random';
import { cloneGraph } from '../src/tflite/edit';
import type { ModelGraph, Tensor } from '../src/tflite/graph';
import { isConstant } from '../src/tflite/queries';
import { readModel } from '../src/tflite/read';
import { TensorType } from '../src/tflite/schema/generated/tflite_generated';
import { writeModel } from '../src/tflite/write';
import { IMAGENET_CLASSIFIERS, imagenetSplit } from './imagenet-classifiers';

const { values } = parseArgs({
  options: {
    iters: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '1e-2' },
    lambda: { type: 'string', default: '0.01' },
    'bias-lr': { type: 'string', default: '1e-4' },
    init: { type: 'string', default: 'float' },
    h0: { type: 'string', default: '0.1' },
    harden: { type: 'string', default: 'round' },
    blocks: { type: 'string', default: '99' },
    calib: { type: 'string', default: '100' },
    eval: { type: 'string', default: '400' },
  },
});
const iterations = Number(values.iters);
const batchSize = Number(values.batch);
const lambda = Number(values.lambda);
if (!['float', 'gptq', 'lsq'].includes(values.init!)) throw new Error(`--init must be float, gptq or lsq, got "${values.init}"`);

await initRuntime();
await initNodeEngine();
const classifier = IMAGENET_CLASSIFIERS[0];
const floatBytes = classifier.bytes();
const W4A8: Recipe = { ...defaultRecipe('int8'), weightBits: 4 };
const random = seededRandom(1);

/** Per-channel values along `axis` of a tensor of `shape`, as a broadcastable tensor. */
const along = (v: ArrayLike<number>, shape: number[], axis: number) => tf.tensor(Float32Array.from(v), shape.map((d, a) => (a === axis ? d : 1)));
/** A weight tensor's per-channel params as the file holds them. */
const paramsOf = (t: Tensor): QuantParams => ({ scale: t.quantization!.scale!, zeroPoint: t.quantization!.scale!.map(() => 0), axis: t.quantization!.quantizedDimension });

/** The PTQ graph with its INT4 weights stored as INT8 (the engine reads no INT4 constants), and their names. */
function int4AsInt8(graph: ModelGraph): Set<string> {
  const names = new Set<string>();
  graph.subgraphs[0].tensors.forEach((t, i) => {
    if (t.type !== TensorType.INT4) return;
    graph.buffers.push({ data: bytesOf(quantizeInt4(constantAsFloat32(graph, 0, i), t.shape, paramsOf(t))) });
    t.buffer = graph.buffers.length - 1;
    t.type = TensorType.INT8;
    names.add(t.name);
  });
  return names;
}

/**
 * --harden gptq: the trained (continuous) weights rounded by GPTQ against the int4 op's own inputs in
 * the block (uncentered: the bias has trained with them), instead of each offset to its nearest integer.
 */
function gptqFrom(trained: tf.Tensor, exec: GraphExecutor, x: tf.Tensor, opInput: number, scales: number[]): tf.Tensor {
  const tapped = tf.tidy(() => exec.run([x], { taps: [opInput] }).taps.get(opInput)!);
  const width = tapped.shape[tapped.shape.length - 1]!;
  const rows = tapped.dataSync() as Float32Array;
  tapped.dispose();
  const values = trained.dataSync() as Float32Array;
  const layout = layoutOf({ values, shape: trained.shape, scales, axis: 0, bits: 4, inputs: { rows, count: rows.length / width, width, layout: 'dense', inChannels: width } });
  const out = new Int8Array(values.length);
  for (const group of layout.groups) gptqGroup(group, values, layout.scaleOf, 4, out);
  return tf.tensor(Float32Array.from(out), trained.shape);
}

async function reconstruct(ptq: OptimizeResult, images: Sample[]): Promise<Uint8Array> {
  const g = readModel(ptq.bytes);
  const sg = g.subgraphs[0];
  const int4Names = int4AsInt8(g);
  const teacherGraph = readModel(floatBytes);
  const teacherIndex = new Map(teacherGraph.subgraphs[0].tensors.map((t, i) => [t.name, i]));
  const teacher = new GraphExecutor(teacherGraph);
  const simulated = new GraphExecutor(g);
  const int4Ops = sg.operators.map((op, i) => ({ op, i })).filter(({ op }) => op.inputs.length > 1 && int4Names.has(sg.tensors[op.inputs[1]]?.name));
  const count = images.length;
  const pixels = tf.tensor(Float32Array.from(images.flatMap((s) => Array.from(s[0] as Float32Array))), [count, 224, 224, 3]);
  const learned = new Map<number, tf.Tensor>(); // weight and bias tensor index -> the reconstructed values
  const newScales = new Map<number, number[]>(); // --init lsq: the learned steps (and the biases' scales)
  const toStudent = (name: string, v: tf.Tensor) =>
    tf.tidy(() => {
      let r = tf.clone(v);
      if (ptq.channelScales?.[name]) r = tf.div(r, tf.tensor1d(ptq.channelScales[name]));
      if (ptq.channelShifts?.[name]) r = tf.sub(r, tf.tensor1d(ptq.channelShifts[name]));
      return r;
    });
  /** One tensor's values over all images, in runs of 25. */
  const tapAll = (exec: GraphExecutor, tap: number, weights?: Map<number, tf.Tensor>) => {
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < count; s += 25) {
      const x = tf.slice(pixels, [s], [Math.min(25, count - s)]);
      parts.push(tf.tidy(() => exec.run([x], { taps: [tap], weights }).taps.get(tap)!));
      x.dispose();
    }
    const all = tf.concat(parts);
    tf.dispose(parts);
    return all;
  };

  let previousEnd = -1;
  for (const { op, i } of int4Ops.slice(0, Number(values.blocks))) {
    const ops = sg.operators.slice(Math.max(previousEnd + 1, i - 1), i + 1);
    previousEnd = i;
    const written = new Set(ops.flatMap((o) => o.outputs));
    const inputs = [...new Set(ops.flatMap((o) => o.inputs).filter((t) => t >= 0 && !written.has(t) && !isConstant(g, sg.tensors[t])))];
    if (inputs.length !== 1) throw new Error(`the block ending at op ${i} reads ${inputs.length} tensors; this bench takes chains only`);
    const out = op.outputs[0];
    const outName = sg.tensors[out].name;
    const block = cloneGraph(g);
    Object.assign(block.subgraphs[0], { operators: ops, inputs, outputs: [out] });
    block.signatureDefs = [];
    const exec = new GraphExecutor(block, { simulateQuantization: false, reorderConstants: false });
    const x = tapAll(simulated, inputs[0], learned);
    const teacherOut = teacherIndex.get(outName);
    if (teacherOut === undefined) throw new Error(`the float model has no tensor ${outName}`);
    const raw = tapAll(teacher, teacherOut);
    const y = toStudent(outName, raw);
    raw.dispose();

    const wT = sg.tensors[op.inputs[1]];
    const axis = wT.quantization!.quantizedDimension;
    const s = along(wT.quantization!.scale!, wT.shape, axis);
    const qPtq = tf.tidy(() => tf.round(tf.div(tf.tensor(constantValues(g, wT)!.values as Float32Array, wT.shape), s)));
    const bT = op.inputs[2];
    const bias = bT >= 0 ? tf.variable(tf.tensor(constantValues(g, sg.tensors[bT])!.values as Float32Array), true) : null;
    const weightsOf = (w: tf.Tensor) => new Map<number, tf.Tensor>([[op.inputs[1], w], ...(bias ? [[bT, bias] as [number, tf.Tensor]] : [])]);
    const transform = (t: number, v: tf.Tensor) => {
      const fq = tensorFakeQuant(block.subgraphs[0].tensors[t]);
      return fq && v.dtype === 'float32' ? fakeQuantizeSte(v, fq) : v;
    };
    const error = (out: tf.Tensor, target: tf.Tensor) => tf.mean(tf.sum(tf.squaredDifference(out, target), -1));
    const errorOnAll = (w: tf.Tensor) => tf.tidy(() => error(exec.run([x], { weights: weightsOf(w), transform }).outputs[0], y).dataSync()[0]);
    const before = errorOnAll(tf.mul(qPtq, s));
    /** Adam on the block error of weightOf() on random batches, plus penalty(iteration); the bias trains beside at its own rate. */
    const train = (variables: tf.Variable[], weightOf: () => tf.Tensor, penalty: (it: number) => tf.Tensor | null) => {
      const optimizer = tf.train.adam(Number(values.lr));
      const biasOptimizer = tf.train.adam(Number(values['bias-lr']));
      for (let it = 0; it < iterations; it++) {
        const indices = tf.tensor1d(Array.from({ length: batchSize }, () => Math.floor(random() * count)), 'int32');
        const { value, grads } = optimizer.computeGradients(() => {
          const e = error(exec.run([tf.gather(x, indices)], { weights: weightsOf(weightOf()), transform }).outputs[0], tf.gather(y, indices));
          const p = penalty(it);
          return (p ? tf.add(e, p) : e) as tf.Scalar;
        }, [...variables, ...(bias ? [bias] : [])]);
        optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        if (bias) biasOptimizer.applyGradients([{ name: bias.name, tensor: grads[bias.name] }]);
        tf.dispose([value, indices, ...Object.values(grads)]);
      }
      optimizer.dispose();
      biasOptimizer.dispose();
    };
    const started = performance.now();
    let q: tf.Tensor;
    let w: tf.Tensor;
    let detail: string;
    if (values.init === 'lsq') {
      // Block-wise QAT: hard int4 weights in the forward pass (straight-through), the weights (in units
      // of their PTQ step), the steps (LSQ) and the bias trained on the block error; no rounding gap.
      const s0 = wT.quantization!.scale!;
      const s0T = tf.tensor1d(s0);
      const u = tf.variable(qPtq.clone(), true);
      const r = tf.variable(tf.ones([s0.length]), true);
      train([u, r], () => lsqQuantize(tf.mul(u, s), tf.mul(r, s0T), { axis, qmin: -8, qmax: 7 }), () => null);
      const step = Array.from(tf.tidy(() => tf.mul(r, s0T)).dataSync());
      const stepT = along(step, wT.shape, axis);
      q = tf.tidy(() => tf.clipByValue(tf.round(tf.div(tf.mul(u, s), stepT)), -8, 7));
      w = tf.keep(tf.mul(q, stepT));
      // The simulated model and the written file take the new steps (the bias's scale follows them).
      wT.quantization!.scale = step;
      newScales.set(op.inputs[1], step);
      if (bias) {
        const inputScale = sg.tensors[op.inputs[0]].quantization!.scale![0];
        const biasScale = step.map((v) => Math.fround(inputScale * v));
        sg.tensors[bT].quantization!.scale = biasScale;
        newScales.set(bT, biasScale);
      }
      detail = `steps moved up to ${(100 * step.reduce((m, v, c) => Math.max(m, Math.abs(v / s0[c] - 1)), 0)).toFixed(1)}%`;
      tf.dispose([s0T, stepT, u, r]);
    } else {
      const h = (v: tf.Tensor) => tf.clipByValue(tf.sub(tf.mul(tf.sigmoid(v), 1.2), 0.1), 0, 1);
      const vOf = (h0: tf.Tensor) => tf.tidy(() => tf.neg(tf.log(tf.sub(tf.div(1.2, tf.add(h0, 0.1)), 1))));
      let base: tf.Tensor;
      const hs: tf.Variable[] = [];
      if (values.init === 'float') {
        const wf = constantValues(teacherGraph, teacherGraph.subgraphs[0].tensors[teacherIndex.get(wT.name)!])!.values as Float32Array;
        const sIn = ptq.channelScales?.[sg.tensors[op.inputs[0]].name];
        const sOut = ptq.channelScales?.[outName];
        const steps = tf.tidy(() => {
          let wf32 = tf.tensor(wf, wT.shape);
          if (sIn) wf32 = tf.mul(wf32, along(sIn, wT.shape, wT.shape.length - 1));
          if (sOut) wf32 = tf.div(wf32, along(sOut, wT.shape, axis));
          return tf.div(wf32, s);
        });
        base = tf.floor(steps);
        const fraction = tf.tidy(() => tf.clipByValue(tf.sub(steps, base), 0.01, 0.99));
        hs.push(tf.variable(vOf(fraction), true));
        tf.dispose([steps, fraction]);
      } else {
        base = qPtq.clone();
        const h0 = tf.fill(wT.shape, Number(values.h0));
        hs.push(tf.variable(vOf(h0), true), tf.variable(vOf(h0), true));
        h0.dispose();
      }
      const offset = (f: (v: tf.Variable) => tf.Tensor) => (hs.length === 2 ? tf.sub(f(hs[0]), f(hs[1])) : f(hs[0]));
      const relaxed = () => tf.mul(tf.clipByValue(tf.add(base, offset(h)), -8, 7), s);
      const warmUp = 0.2 * iterations;
      train(hs, relaxed, (it) => {
        const beta = it < warmUp ? 20 : 20 - (18 * (it - warmUp)) / (iterations - warmUp);
        const undecided = (v: tf.Tensor) => tf.sum(tf.sub(1, tf.pow(tf.abs(tf.sub(tf.mul(h(v), 2), 1)), beta)));
        return tf.mul(it < warmUp ? 0 : lambda, tf.addN(hs.map(undecided)));
      });
      const trained = tf.tidy(relaxed);
      q = values.harden === 'gptq' ? gptqFrom(trained, exec, x, op.inputs[0], wT.quantization!.scale!) : tf.tidy(() => tf.clipByValue(tf.add(base, tf.round(offset(h))), -8, 7));
      w = tf.keep(tf.mul(q, s));
      const undecided = tf.tidy(() => tf.sum(tf.logicalAnd(tf.greater(h(hs[0]), 0.01), tf.less(h(hs[0]), 0.99))).dataSync()[0]);
      detail = `${undecided} h still in (0.01, 0.99); ${errorOnAll(trained).toFixed(4)} with h as trained`;
      tf.dispose([trained, base, ...hs]);
    }
    const moved = tf.tidy(() => tf.sum(tf.notEqual(q, qPtq)).dataSync()[0]);
    const after = errorOnAll(w);
    learned.set(op.inputs[1], w);
    if (bias) learned.set(bT, tf.keep(bias.clone()));
    console.log(
      `op ${i} (${outName}): ${qPtq.size} weights, ${moved} moved from GPTQ's integers, ${detail}; ` +
        `block error ${before.toFixed(4)} (GPTQ) -> ${after.toFixed(4)} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    tf.dispose([x, y, s, qPtq, q, ...(bias ? [bias] : [])]);
    exec.dispose();
  }

  // The PTQ file with the new integers: int4 weights packed, int32 biases at the PTQ's bias scales.
  const result = readModel(ptq.bytes);
  const tensors = result.subgraphs[0].tensors;
  for (const [index, value] of learned) {
    const t = tensors[index];
    if (newScales.has(index)) t.quantization = { ...t.quantization!, scale: newScales.get(index)! };
    const real = value.dataSync() as Float32Array;
    // A bias's scales are input scale x weight scales already: quantizeBias with an input scale of 1.
    const data = t.type === TensorType.INT4 ? packInt4(quantizeInt4(real, t.shape, paramsOf(t))) : bytesOf(quantizeBias(real, 1, t.quantization!.scale!, 32).data);
    result.buffers.push({ data });
    t.buffer = result.buffers.length - 1;
  }
  tf.dispose([pixels, ...learned.values()]);
  teacher.dispose();
  simulated.dispose();
  return writeModel(result);
}

const { calibration, evaluation, labels } = await imagenetSplit(floatBytes, classifier, Number(values.calib), Number(values.eval));
const ptq = await optimizeModel({ model: floatBytes, recipe: W4A8, calibration });
const started = performance.now();
const reconstructed = await reconstruct(ptq, calibration);
const seconds = (performance.now() - started) / 1000;
const score = async (bytes: Uint8Array) => {
  const c = await compareModels(floatBytes, bytes, evaluation, { labels });
  return { float: c.classification.accuracy!.reference.top1, top1: c.classification.accuracy!.candidate.top1, agreement: c.classification.agreement, sqnr: c.outputs[0].sqnrDb };
};
const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
const line = (r: Awaited<ReturnType<typeof score>>) => `${pct(r.top1)}, agreement ${pct(r.agreement)}, ${r.sqnr.toFixed(2)} dB`;
const before = await score(ptq.bytes);
const after = await score(reconstructed);
console.log(`\nimages ${values.calib}..${Number(values.calib) + Number(values.eval) - 1}: float ${pct(before.float)} | PTQ W4A8 ${line(before)} | reconstructed ${line(after)} (${seconds.toFixed(0)} s)`);
