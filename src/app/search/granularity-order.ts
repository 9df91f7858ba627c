/**
 * Which per-channel int8 weights the precision search tries with one scale per tensor, and in what order.
 *
 * Per-channel scales cost bytes in the file: a float32 scale and an int64 zero point for the weights,
 * again for the bias, the all-zero zero-point vector shared (16 bytes a channel, measured on
 * MobileNetV1 0.25: its 1001-way classifier's are 16,016 bytes, 3% of the int8 model). They buy
 * accuracy only where the channels' ranges differ: rounding noise power goes with the scale squared,
 * so one scale (the largest channel's) costs max(s)^2 / mean(s^2) times the per-channel noise. Where
 * that ratio stays under 10 (10 dB, the line quantize/params.ts perChannelPays draws for
 * FULLY_CONNECTED), and the saving is worth an evaluation, the op is a step; largest saving first.
 * A classifier's rows tend to share one range; a depthwise layer's channels differ by 100x and more.
 */
import type { QuantizationPlan } from '../../optimize/quantize/plan-types';
import type { ModelGraph } from '../../tflite/graph';
import { opName } from '../../tflite/ops';

/** File bytes per-channel parameters cost per channel (weight and bias scales, one shared zero-point vector). */
export const PER_CHANNEL_BYTES = 16;
/** Noise power per-tensor may add over per-channel for an op to be tried (10 = 10 dB). */
export const MAX_NOISE_RATIO = 10;
/** A step must save at least this share of the candidate's bytes to be worth an evaluation. */
export const MIN_SAVING_SHARE = 0.01;

export interface PerTensorStep {
  /** The op's output tensor name (how candidates name ops). */
  output: string;
  opIndex: number;
  channels: number;
  /** Bytes the file loses with one scale (PER_CHANNEL_BYTES a channel). */
  bytesSaved: number;
  /** max(s)^2 / mean(s^2) of the per-channel weight scales: per-tensor's noise over per-channel's. */
  noiseRatio: number;
}

/** The steps for a candidate quantized by `plan` (of a model whose ops are those of `floatGraph`), `bytes` long. */
export function perTensorOrder(floatGraph: ModelGraph, plan: QuantizationPlan | undefined, bytes: number): PerTensorStep[] {
  const operators = floatGraph.subgraphs[0]?.operators ?? [];
  const steps: PerTensorStep[] = [];
  for (const op of plan?.subgraphs[0]?.ops ?? []) {
    const w = op.mode === 'quantized' ? op.weights : undefined;
    if (!w || w.bits !== 8 || w.granularity !== 'per-channel' || w.scales.length < 2) continue;
    // The plan's op indices are the float graph's (the search's other stages rely on it too); skip if not.
    const floatOp = operators[op.opIndex];
    if (!floatOp || opName(floatGraph, floatOp) !== op.op) continue;
    let max = 0;
    let sumSquares = 0;
    for (const s of w.scales) {
      max = Math.max(max, s);
      sumSquares += s * s;
    }
    const noiseRatio = (max * max) / (sumSquares / w.scales.length);
    const bytesSaved = PER_CHANNEL_BYTES * w.scales.length;
    if (!(noiseRatio <= MAX_NOISE_RATIO) || bytesSaved < MIN_SAVING_SHARE * bytes) continue;
    steps.push({ output: floatGraph.subgraphs[0].tensors[floatOp.outputs[0]].name, opIndex: op.opIndex, channels: w.scales.length, bytesSaved, noiseRatio });
  }
  return steps.sort((a, b) => b.bytesSaved - a.bytesSaved || a.noiseRatio - b.noiseRatio || a.opIndex - b.opIndex);
}
