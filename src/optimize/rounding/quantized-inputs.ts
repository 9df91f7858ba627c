/**
 * Inputs of int4 layers as the quantized model gives them: the float model and a quantized model
 * (int8 activations, its earlier layers' weights already rounded) run side by side in LiteRT on the
 * same samples, and at the same positions each dense layer's input row is cut from both. Kept per
 * layer: the running moments of the quantized rows x~ (sum, X~^T X~, the Hessian sequential GPTQ
 * uses) and, for the asymmetric target, the sums of the float rows x and the cross matrix X~^T X.
 *
 * Why: rounding from the float model's inputs minimizes ||X (W - Wq)||, but the int4 model computes
 * X~ Wq, and at int4 X~ carries the error of every layer above (MobileNetV2 W4A8: 10.8 dB at the
 * logits). Minimizing ||X W - X~ Wq|| instead (GPTQ's sequential form with an asymmetric target, as
 * in GPTAQ, Li et al. 2025) makes each layer take out part of what its inputs carry in.
 */
import { WorkbenchError } from '../../errors';
import { loadTapped, type TappedRunner } from '../../runtime/taps';
import { eachSample, toFloat, toModelInputs, type Samples } from '../../runtime/samples';
import type { ModelGraph } from '../../tflite/graph';
import { seededRandom } from '../../seeded-random';
import type { LayerSite } from './layer-sites';

export interface QuantizedMoments {
  /** Rows accumulated. */
  count: number;
  /** Column sums of the quantized rows, and the upper triangle of X~^T X~ (k x k, row-major). */
  sum: Float64Array;
  outer: Float64Array;
  /** Column sums of the float rows and X~^T X (full k x k, row i = quantized column i); asymmetric only. */
  floatSum?: Float64Array;
  cross?: Float64Array;
}

export interface QuantizedInputOptions {
  /** Samples that will be added (the rows are spread evenly over them). */
  total: number;
  /** Rows per layer in all (default 16384, layer-inputs.ts GRAM_ROWS). */
  rows?: number;
  /** Also accumulate the float rows and the cross matrix (asymmetric target). */
  cross?: boolean;
  seed?: number;
  signal?: AbortSignal;
}

interface Accumulator {
  site: LayerSite;
  /** The tensor the quantized model's op reads (its index there) and its parameters. */
  quantizedInput: number;
  perSample: number;
  random: () => number;
  moments: QuantizedMoments;
  x: Float32Array;
  xf: Float32Array;
}

/**
 * Moments of the quantized inputs of `sites` (dense layers of the float graph), by site key. The
 * quantized op is found by its output tensor's name (the quantizer keeps names, not op indices).
 */
export async function quantizedInputMoments(
  floatGraph: ModelGraph,
  quantizedGraph: ModelGraph,
  sites: LayerSite[],
  samples: Samples,
  options: QuantizedInputOptions,
): Promise<Map<string, QuantizedMoments>> {
  const result = new Map<string, QuantizedMoments>();
  if (!sites.length) return result;
  const fSub = floatGraph.subgraphs[0];
  const qSub = quantizedGraph.subgraphs[0];
  const producerOf = new Map<string, number>();
  qSub.operators.forEach((op, o) => {
    const name = qSub.tensors[op.outputs[0]]?.name;
    if (name !== undefined && !producerOf.has(name)) producerOf.set(name, o);
  });
  const rowsPerLayer = options.rows ?? 16384;
  const accumulators: Accumulator[] = sites.map((site, i) => {
    if (site.layout !== 'dense') throw new WorkbenchError('bad-input', `quantized inputs: op #${site.opIndex} is not a dense layer`);
    const outName = fSub.tensors[fSub.operators[site.opIndex].outputs[0]].name;
    const qOp = producerOf.get(outName);
    if (qOp === undefined) throw new WorkbenchError('bad-input', `quantized inputs: no op writes '${outName}' in the quantized model`);
    const k = site.width;
    return {
      site,
      quantizedInput: qSub.operators[qOp].inputs[0],
      perSample: Math.max(1, Math.ceil(rowsPerLayer / Math.max(1, options.total))),
      random: seededRandom((options.seed ?? 1) * 15485863 + i),
      moments: {
        count: 0,
        sum: new Float64Array(k),
        outer: new Float64Array(k * k),
        ...(options.cross ? { floatSum: new Float64Array(k), cross: new Float64Array(k * k) } : {}),
      },
      x: new Float32Array(k),
      xf: new Float32Array(k),
    };
  });
  const floatTaps = new Set(accumulators.map((a) => a.site.input).filter((t) => !fSub.inputs.includes(t)));
  const quantizedTaps = new Set(accumulators.map((a) => a.quantizedInput).filter((t) => !qSub.inputs.includes(t)));
  const float = options.cross ? await loadTapped(floatGraph, { select: (t) => floatTaps.has(t), tapsOnly: true }) : null;
  let quantized: TappedRunner;
  try {
    quantized = await loadTapped(quantizedGraph, { select: (t) => quantizedTaps.has(t), tapsOnly: true });
  } catch (error) {
    float?.delete();
    throw error;
  }
  const dequantized = new Map<number, Float32Array>();
  try {
    let index = 0;
    for await (const sample of eachSample(samples)) {
      if (options.signal?.aborted) throw new WorkbenchError('cancelled', 'Rounding from the quantized inputs was cancelled.');
      const byFloat = new Map<number, Float32Array>();
      if (float) {
        const inputs = toModelInputs(sample, float.inputs, index);
        const run = floatTaps.size ? await float.run(inputs) : { values: [] };
        float.taps.forEach((tap, k) => byFloat.set(tap.tensorIndex, run.values[k] as Float32Array));
        fSub.inputs.forEach((t, i) => {
          if (inputs[i] instanceof Float32Array) byFloat.set(t, inputs[i] as Float32Array);
        });
      }
      const qInputs = toModelInputs(sample, quantized.inputs, index);
      const run = quantizedTaps.size ? await quantized.run(qInputs) : { values: [] };
      index++;
      const byQuantized = new Map<number, Float32Array>();
      quantized.taps.forEach((tap, k) => {
        const tensor = qSub.tensors[tap.tensorIndex];
        const scale = tensor.quantization?.scale?.[0];
        const params = scale ? { scale, zeroPoint: Number(tensor.quantization?.zeroPoint?.[0] ?? 0) } : null;
        const out = dequantized.get(tap.tensorIndex);
        const values = toFloat(run.values[k], params, out);
        dequantized.set(tap.tensorIndex, values);
        byQuantized.set(tap.tensorIndex, values);
      });
      qSub.inputs.forEach((t, i) => {
        if (qInputs[i] instanceof Float32Array) byQuantized.set(t, qInputs[i] as Float32Array);
      });
      for (const a of accumulators) {
        const activation = byQuantized.get(a.quantizedInput);
        if (!activation) throw new WorkbenchError('runtime', `quantized inputs: no values for the input of op #${a.site.opIndex}`);
        const floatActivation = float ? byFloat.get(a.site.input) : undefined;
        if (float && !floatActivation) throw new WorkbenchError('runtime', `quantized inputs: no float values for the input of op #${a.site.opIndex}`);
        accumulate(a, activation, floatActivation);
      }
    }
  } finally {
    float?.delete();
    quantized.delete();
  }
  for (const a of accumulators) if (a.moments.count) result.set(a.site.key, a.moments);
  return result;
}

/** One sample's rows (positions spread evenly, one random position per stratum), quantized and float. */
function accumulate(a: Accumulator, activation: Float32Array, floatActivation: Float32Array | undefined): void {
  const { site, moments: m, x, xf } = a;
  const k = site.width;
  const draws = Math.min(a.perSample, site.positions);
  for (let d = 0; d < draws; d++) {
    const position = Math.min(site.positions - 1, Math.floor(((d + a.random()) * site.positions) / draws));
    site.cut(activation, position, x, 0);
    if (floatActivation) site.cut(floatActivation, position, xf, 0);
    for (let i = 0; i < k; i++) {
      const xi = x[i];
      if (m.floatSum) m.floatSum[i] += xf[i];
      if (xi === 0) continue; // post-ReLU inputs are mostly zeros
      m.sum[i] += xi;
      const row = i * k;
      for (let j = i; j < k; j++) m.outer[row + j] += xi * x[j];
      if (m.cross) for (let j = 0; j < k; j++) m.cross[row + j] += xi * xf[j];
    }
    m.count++;
  }
}
