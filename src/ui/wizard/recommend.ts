/**
 * The TFLite guide's decision tree as a function: answers -> a ranked list of recipes the
 * workbench can run, each with the reason. Pure (no React), so it is easy to read and test.
 */
import { asksInt4, defaultRecipe, type Recipe, type Technique } from '../../optimize/recipe';
import { QAT_INT4_LEARNING_RATE } from '../../optimize/qat-defaults';
import type { Target } from '../target-check';
import type { VariantSteps } from '../../app/variant-chain';

export type DataAvailable = 'none' | 'unlabeled' | 'labeled';
export type LossTolerance = 'tiny' | 'small' | 'moderate';
export type Priority = 'size' | 'latency' | 'both';

export interface WizardAnswers {
  target: Target;
  data: DataAvailable;
  loss: LossTolerance;
  priority: Priority;
  sensitive: boolean;
}

export const DEFAULT_ANSWERS: WizardAnswers = { target: 'cpu', data: 'unlabeled', loss: 'small', priority: 'both', sensitive: false };

export interface Recommendation {
  recipe: Recipe;
  /** Prune / cluster steps before the recipe (a chain, e.g. cluster:32:per-channel+int8). */
  steps?: VariantSteps;
  reason: string;
}

/** What the runs so far showed on this model and this machine. */
export interface Observed {
  /** The smallest accuracy drop (points of top-1, or of agreement) of plain int8 (int8 weights). */
  int8Drop?: number;
  /** The same for post-training W4A8 (int8 with int4 weights, no training step). */
  w4a8Drop?: number;
  /** Median latency of a finished plain variant over the float model's, by technique, measured in LiteRT here. */
  latencyRatio?: Partial<Record<Technique, number>>;
}

/**
 * What a recommendation may say about speed: the ratio measured in LiteRT when a variant of that
 * technique ran, else what the target runtime is known to do, never a general promise.
 */
function speedNote(technique: Technique, target: WizardAnswers['target'], observed: Observed): string {
  const ratio = observed.latencyRatio?.[technique];
  if (ratio !== undefined) return `measured here: ${ratio.toFixed(2)}x the float model's latency in LiteRT`;
  if (technique === 'dynamic') {
    return target === 'web'
      ? "LiteRT.js's XNNPACK takes float and full-integer graphs, not hybrid ones, so in the browser it usually runs slower than float: it saves size, not time"
      : 'speed depends on the runtime (hybrid kernels; XNNPACK in LiteRT.js runs them slower than float): the latency column measures it once run';
  }
  if (technique === 'int8') return 'integer kernels (XNNPACK) throughout; the latency column measures it once run';
  return 'the latency column measures it once run';
}

/** The loss each tolerance accepts, in points (0.01 = 1 point). */
export const TOLERANCE: Record<LossTolerance, number> = { tiny: 0.005, small: 0.01, moderate: 0.03 };

const pts = (v: number) => `${(v * 100).toFixed(1)} pt`;

/** QAT + int8, when there is data and post-training int8 misses (or is expected to miss) the target. */
function qatRecommendation(a: WizardAnswers, observed: Observed): Recommendation | null {
  if (a.data === 'none') return null;
  const steps: VariantSteps = { train: { mode: 'qat', epochs: 3, batchSize: 16, learningRate: 1e-4 } };
  const labels = a.data === 'labeled' ? 'on your labels' : 'by distillation from the float model (no labels needed)';
  if (observed.int8Drop !== undefined && observed.int8Drop > TOLERANCE[a.loss]) {
    return {
      recipe: recipe('int8'),
      steps,
      reason: `Post-training int8 lost ${pts(observed.int8Drop)}, more than the ${pts(TOLERANCE[a.loss])} you accept: quantization-aware training trains the weights with int8 simulated (${labels}) and usually wins most of that back, for the same int8 model size and speed.`,
    };
  }
  if (a.loss === 'tiny' && observed.int8Drop === undefined) {
    return {
      recipe: recipe('int8'),
      steps,
      reason: `You accept almost no loss and have data: quantization-aware training (${labels}) keeps int8 closest to float. It trains in the browser, so it takes minutes, not seconds; compare it with plain int8.`,
    };
  }
  return null;
}

/** A finished variant as the wizard reads it (session.ts Variant has these fields). */
export interface ObservedRun {
  status: string;
  recipe: Recipe;
  steps?: unknown;
  result?: { comparison: { classification: { agreement: number; accuracy?: { reference: { top1: number }; candidate: { top1: number } } | null } } };
}

/**
 * The smallest drop of finished post-training int8 variants, int8 weights and int4 weights (W4A8)
 * apart: top-1 points, or disagreement with the float model when unlabeled.
 */
export function observedDrops(runs: readonly ObservedRun[]): Pick<Observed, 'int8Drop' | 'w4a8Drop'> {
  const drops = (int4: boolean) => {
    const values = runs
      .filter((v) => v.status === 'done' && v.result && v.recipe.technique === 'int8' && !v.steps && asksInt4(v.recipe) === int4)
      .map((v) => {
        const c = v.result!.comparison.classification;
        return c.accuracy ? c.accuracy.reference.top1 - c.accuracy.candidate.top1 : 1 - c.agreement;
      });
    return values.length ? Math.min(...values) : undefined;
  };
  return { int8Drop: drops(false), w4a8Drop: drops(true) };
}

/**
 * W4A8 + QAT (qat+int8 with int4 weights, chain-qat-int4.ts) when the smallest model is asked, there
 * is data to train on, and post-training W4A8 was measured losing more than the user accepts: the
 * training starts from that W4A8 model and learns its int4 steps and the activation ranges, so it
 * keeps W4A8's size and wins back part of the loss.
 */
function w4a8QatRecommendation(a: WizardAnswers, observed: Observed): Recommendation | null {
  if (a.data === 'none' || a.priority !== 'size' || observed.w4a8Drop === undefined || observed.w4a8Drop <= TOLERANCE[a.loss]) return null;
  if (a.target !== 'cpu' && a.target !== 'web') return null;
  const labels = a.data === 'labeled' ? 'on your labels' : 'by distillation from the float model (no labels needed)';
  return {
    recipe: recipe('int8', { weightBits: 4 }),
    steps: { train: { mode: 'qat', epochs: 4, batchSize: 16, learningRate: QAT_INT4_LEARNING_RATE } },
    reason: `W4A8 after post-training quantization lost ${pts(observed.w4a8Drop)}, more than the ${pts(TOLERANCE[a.loss])} you accept: quantization-aware training with int4 weights starts from that W4A8 model and learns its int4 steps and activation ranges (${labels}), for the same W4A8 size. On MobileNetV1 0.25 (W4A8 PTQ 56.25%, float 62.25%, 85 training images, 4 epochs) it added 1.5 pt at learning rate 2e-5 (the rate set here; on images the rate was not chosen on, 5 folds of 500 from today's start, +1.0 pt on one partition of the images and -0.8 pt on another, float 61.80%: expect little) and kept the PTQ model at 1e-4, the rate of QAT from a float model (npm run bench:qat-int4); it trains in the browser, so it takes minutes. If it still misses, int8 weights (or int8 QAT) are the next step.`,
  };
}

/**
 * int4 weights, for answers that ask for the smallest model and accept a few points: W4A8 with
 * data (GPTQ-rounded, the default), else dynamic range with int4 weights. Its loss on small
 * convnets can exceed a few points (bench:w4a8), so the reason says so and asks for the comparison.
 */
function int4Recommendation(a: WizardAnswers, hasData: boolean, observed: Observed): Recommendation {
  if (hasData) {
    return {
      recipe: recipe('int8', { weightBits: 4 }),
      reason:
        'Smallest with data: int4 weights (W4A8) for CONV_2D / FULLY_CONNECTED, depthwise convolutions kept int8, GPTQ-rounded on your samples. On MobileNetV1 0.25 the file was 0.59x int8 but top-1 fell 2.75 pt (59.00% vs int8 61.75%; MobileNetV2 1.25 pt, 76.25% vs 77.50%; npm run bench:w4a8), more than a few points on small convnets: compare it with int8 in the table, and keep sensitive layers int8 (Bits by op) if it misses.',
    };
  }
  return {
    recipe: recipe('dynamic', { weightBits: 4 }),
    reason: `Smallest without data: dynamic range with int4 weights (4 bits per weight instead of 8; depthwise convolutions stay int8). Rounded to nearest (better rounding needs samples), so expect more loss than int8 weights; the table measures it. Speed: ${speedNote('dynamic', a.target, observed)}.`,
  };
}

function recipe(technique: Technique, patch: Partial<Recipe> = {}): Recipe {
  return { ...defaultRecipe(technique), ...patch };
}

export function recommend(a: WizardAnswers, observed: Observed = {}): Recommendation[] {
  const hasData = a.data !== 'none';
  const out: Recommendation[] = [];
  const qat = qatRecommendation(a, observed);
  // A measured miss goes first: it is the one thing known to fix what the user saw.
  const w4a8Qat = w4a8QatRecommendation(a, observed);
  if (w4a8Qat) out.push(w4a8Qat);
  if (qat && observed.int8Drop !== undefined) out.push(qat);
  if (a.target === 'integer' || a.target === 'mcu') {
    if (!hasData) {
      return [
        {
          recipe: recipe('dynamic'),
          reason:
            'Integer-only hardware needs full int8, which needs representative data (about 100 unlabeled samples). Without data only dynamic range runs, and it keeps float activations the accelerator cannot take: get some samples.',
        },
      ];
    }
    out.push({ recipe: recipe('int8', { io: 'int8', integerOnly: true }), reason: a.target === 'mcu'
        ? 'Microcontrollers (TFLite Micro) run int8 kernels (CMSIS-NN, ESP-NN...): full int8 with int8 input and output is 4x smaller in flash and arena and much faster than float.'
        : 'Edge TPU / NPU run integer-only models: full int8 with int8 input and output, failing if any op would stay float.' });
    out.push({ recipe: recipe('int8', { io: 'int8', integerOnly: true, calibration: { algorithm: 'percentile', percentile: 99.99, samples: 100 } }), reason: 'The same with percentile calibration: clipping rare outliers often recovers accuracy.' });
    if (qat && observed.int8Drop === undefined) out.push(qat);
    if (a.sensitive) out.push({ recipe: recipe('int16x8'), reason: '16x8 keeps sensitive activations in int16; few NPUs take it: check your target supports it.' });
    return out;
  }
  if (a.target === 'gpu') {
    out.push({ recipe: recipe('float16'), reason: 'GPU delegates compute in float16: a float16 model is 2x smaller with negligible loss and runs natively on the GPU.' });
    if (a.priority === 'size') out.push({ recipe: recipe('dynamic'), reason: '4x smaller weights; on GPU the weights are dequantized, so it helps download size, not speed.' });
    if (hasData) out.push({ recipe: recipe('int8'), reason: 'Full int8 for the CPU fallback and for comparison; GPUs mostly run it by dequantizing.' });
    return dedupe(out);
  }
  // CPU and web (LiteRT.js runs XNNPACK on the CPU).
  if (a.sensitive && hasData) out.push({ recipe: recipe('int16x8'), reason: 'Speech / NLP activations are sensitive to 8-bit: 16x8 (int16 activations, int8 weights) loses less than int8, 3-4x smaller.' });
  if (hasData && a.loss !== 'tiny') {
    out.push({ recipe: recipe('int8'), reason: `Full int8: 4x smaller; needs ~100 unlabeled samples to calibrate. Speed: ${speedNote('int8', a.target, observed)}.` });
  }
  if (hasData && a.priority === 'size') {
    out.push({
      recipe: recipe('int8'),
      steps: { cluster: { clusters: 32, perChannel: true } },
      reason:
        'Clustering then int8: 32 shared values per output channel compress much better, so the download (gzip) is clearly smaller than plain int8 for a small extra loss. One-shot; tick Fine-tune in the experiment to train it on your data. One-shot pruning loses much more accuracy (prune + Fine-tune recovers most of it).',
    });
  }
  if (a.priority === 'size' && a.loss === 'moderate') out.push(int4Recommendation(a, hasData, observed));
  if (a.loss === 'tiny' || a.priority === 'size' || !hasData) {
    out.push({ recipe: recipe('float16'), reason: 'Float16 weights: 2x smaller, negligible accuracy loss, no data needed; compute stays float32 on CPU.' });
  }
  out.push({ recipe: recipe('dynamic'), reason: `Dynamic range: int8 weights, activations quantized on the fly; 4x smaller, no data needed, small loss. Speed: ${speedNote('dynamic', a.target, observed)}.` });
  if (qat && observed.int8Drop === undefined) out.push(qat);
  if (hasData && a.loss === 'tiny') {
    out.push({ recipe: recipe('int8', { calibration: { algorithm: 'percentile', percentile: 99.99, samples: 100 } }), reason: 'Full int8 with percentile calibration, to check whether the loss really is too large for you.' });
  }
  if (a.sensitive && !hasData) out.push({ recipe: recipe('float16'), reason: 'Sensitive activations without data: float16 is the safe choice (16x8 needs representative data).' });
  return dedupe(out);
}

/** Dedupe by technique + options, keeping the first (ranked) reason. */
function dedupe(out: Recommendation[]): Recommendation[] {
  const seen = new Set<string>();
  return out.filter((r) => {
    const key = JSON.stringify([r.recipe, r.steps ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The TFLite guide's technique table, with what this workbench can run. */
export const TECHNIQUE_TABLE: { technique: string; data: string; size: string; accuracy: string; hardware: string; here: string }[] = [
  { technique: 'Float16 quantization', data: 'No data', size: 'Up to 2x smaller', accuracy: 'Negligible loss', hardware: 'CPU, GPU', here: 'float16' },
  { technique: 'Dynamic range quantization', data: 'No data', size: 'Up to 4x smaller', accuracy: 'Small loss', hardware: 'CPU', here: 'dynamic' },
  { technique: 'Full integer (int8)', data: 'Unlabeled representative samples', size: 'Up to 4x smaller', accuracy: 'Small loss', hardware: 'CPU, Edge TPU, microcontrollers', here: 'int8' },
  { technique: '16x8 (int16 activations)', data: 'Unlabeled representative samples', size: '3-4x smaller', accuracy: 'Less loss than int8', hardware: 'CPU (reference kernels)', here: 'int16x8' },
  { technique: 'Weight-only int8', data: 'No data', size: 'Up to 4x smaller', accuracy: 'Negligible loss', hardware: 'CPU (dequantized at load)', here: 'weight-int8' },
  { technique: 'Quantization-aware training', data: 'Training data (labels optional: distillation)', size: 'Up to 4x smaller', accuracy: 'Smallest loss', hardware: 'CPU, Edge TPU, microcontrollers', here: 'qat+int8' },
  { technique: 'Clustering (one-shot)', data: 'None (+ samples for int8)', size: 'Much smaller gzip download, with int8 up to ~6x', accuracy: 'Small loss per channel with k = 32; larger per tensor or with small k', hardware: 'CPU (smaller download)', here: 'cluster:32:per-channel+int8' },
  { technique: 'Pruning (one-shot)', data: 'None (+ samples for int8)', size: 'Smaller gzip download (zeros compress)', accuracy: 'Much loss without fine-tuning: keep sparsity low, or fine-tune', hardware: 'CPU (smaller download)', here: 'prune:0.5+int8, prune:0.5:2of4+dynamic' },
  { technique: 'Pruning / clustering with fine-tuning', data: 'Training data (labels optional: distillation)', size: 'Up to 6x with compression', accuracy: 'Small loss', hardware: 'CPU (smaller download)', here: 'prune:0.75+finetune+int8, cluster:16+finetune+int8' },
];
