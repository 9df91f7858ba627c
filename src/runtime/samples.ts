/**
 * Samples: what calibration and evaluation feed a model. One sample is one array per model input,
 * in the order LiteRT lists the inputs (`LoadedModel.inputs`: the signature's order, or subgraph 0's
 * for a model without signature defs). Float data is preprocessed already (the dataset's job); a
 * model whose input is int8 / uint8 / int16 gets the float values quantized with that input's scale
 * and zero point, so one float dataset serves the float model and all its quantized variants.
 */
import { WorkbenchError } from '../errors';
import { TYPED_ARRAYS, type RuntimeData, type RuntimeDType, type RuntimeTensorInfo } from './types';

export type SampleTensor = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Int16Array | Uint16Array;
export type Sample = SampleTensor[];
/** An array (its length is the total for progress) or any (async) iterable of samples. */
export type Samples = readonly Sample[] | Iterable<Sample> | AsyncIterable<Sample>;

export interface RunProgress {
  /** Called after each sample with the number done and the total when known. */
  onProgress?: (done: number, total: number | undefined) => void;
  signal?: AbortSignal;
}

/** The number of samples when it is known without consuming them. */
export function sampleCount(samples: Samples, total?: number): number | undefined {
  if (total !== undefined) return total;
  return Array.isArray(samples) ? samples.length : undefined;
}

/** Iterates arrays, iterables and async iterables alike (arrays without extra awaits per item). */
export async function* eachSample(samples: Samples): AsyncGenerator<Sample> {
  if (Array.isArray(samples)) {
    for (const sample of samples as readonly Sample[]) yield sample;
    return;
  }
  if (Symbol.asyncIterator in (samples as object)) {
    for await (const sample of samples as AsyncIterable<Sample>) yield sample;
    return;
  }
  for (const sample of samples as Iterable<Sample>) yield sample;
}

export function cancelled(what: string, done: number, total: number | undefined): WorkbenchError {
  return new WorkbenchError('cancelled', `${what} was cancelled after ${done}${total !== undefined ? ` of ${total}` : ''} sample${(total ?? done) === 1 ? '' : 's'}.`);
}

const FLOAT_SOURCES = (data: SampleTensor): data is Float32Array | Float64Array => data instanceof Float32Array || data instanceof Float64Array;

const RANGES = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
} as const;

/**
 * The sample as LiteRT input arrays for `inputs`. Arrays already of the input's type pass as they
 * are (no copy); float data for a quantized input (int8 / uint8 / int16 with a scale) is quantized:
 * q = clamp(round(x / scale) + zeroPoint); anything else is converted element by element.
 */
export function toModelInputs(sample: Sample, inputs: RuntimeTensorInfo[], index = 0): RuntimeData[] {
  if (!Array.isArray(sample) || sample.length !== inputs.length) {
    throw new WorkbenchError(
      'bad-input',
      `Sample ${index} has ${Array.isArray(sample) ? sample.length : 'no'} input array${Array.isArray(sample) && sample.length === 1 ? '' : 's'}; the model takes ${inputs.length} (${inputs.map((i) => `'${i.name}'`).join(', ')}).`,
    );
  }
  return inputs.map((info, i) => {
    const data = sample[i];
    const count = info.shape.reduce((n, d) => n * d, 1);
    if (!ArrayBuffer.isView(data) || data.length !== count) {
      throw new WorkbenchError(
        'bad-input',
        `Sample ${index}, input '${info.name}': expected ${count} values (shape [${info.shape.join(', ')}]), got ${ArrayBuffer.isView(data) ? data.length : typeof data}.`,
      );
    }
    switch (info.dtype) {
      case 'float32':
        return data instanceof Float32Array ? data : Float32Array.from(data);
      case 'int32':
        return data instanceof Int32Array ? data : Int32Array.from(data, Math.round);
      case 'int8':
      case 'uint8':
      case 'int16': {
        const Type = info.dtype === 'int8' ? Int8Array : info.dtype === 'uint8' ? Uint8Array : Int16Array;
        if (data instanceof Type) return data;
        if (FLOAT_SOURCES(data) && info.quantization) return quantizeInput(data, info.quantization, info.dtype);
        const [lo, hi] = RANGES[info.dtype];
        const out = new Type(count);
        for (let k = 0; k < count; k++) out[k] = Math.min(hi, Math.max(lo, Math.round(data[k])));
        return out;
      }
    }
  });
}

const INTEGER_RANGE: Record<Exclude<RuntimeDType, 'float32'>, [number, number]> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

/** Round half away from zero, as TFLite's quantize kernels do (std::round). */
function roundHalfAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/**
 * Floats -> the data a model input takes: float32 inputs get the floats as they are; quantized
 * integer inputs get q = clamp(round(x / scale) + zeroPoint) in their dtype; integer inputs without
 * quantization (e.g. token ids) get the rounded values, clamped to the dtype.
 */
export function toModelInput(floats: Float32Array | Float64Array, input: Pick<RuntimeTensorInfo, 'dtype' | 'quantization'> & { name?: string }): RuntimeData {
  if (input.dtype === 'float32') return floats instanceof Float32Array ? floats : Float32Array.from(floats);
  const out = new TYPED_ARRAYS[input.dtype](floats.length);
  const [low, high] = INTEGER_RANGE[input.dtype];
  const q = input.quantization;
  if (q && !(q.scale > 0 && Number.isFinite(q.scale))) {
    throw new WorkbenchError('bad-input', `Input '${input.name ?? '?'}' has an unusable quantization scale (${q.scale}).`);
  }
  const zeroPoint = q ? q.zeroPoint : 0;
  for (let i = 0; i < floats.length; i++) {
    // x / scale, computed as a division (not x * (1 / scale)) so exact multiples stay exact.
    const scaled = q ? floats[i] / q.scale : floats[i];
    const v = roundHalfAway(scaled) + zeroPoint;
    out[i] = v < low ? low : v > high ? high : v;
  }
  return out;
}

/**
 * Float values to an integer input: q = clamp(round(x / scale) + zeroPoint), rounding halves away
 * from zero like TFLite's QUANTIZE kernel (std::round). The same as toModelInput.
 */
export function quantizeInput(
  data: Float32Array | Float64Array,
  q: { scale: number; zeroPoint: number },
  dtype: 'int8' | 'uint8' | 'int16',
): Int8Array | Uint8Array | Int16Array {
  return toModelInput(data, { dtype, quantization: q }) as Int8Array | Uint8Array | Int16Array;
}

/**
 * A tensor's values as float: float32 as is, quantized ones dequantized (scale * (q - zeroPoint)),
 * other integers converted. Writes into `out` when given (and of the right length).
 */
export function toFloat(data: RuntimeData, quantization: { scale: number; zeroPoint: number } | null, out?: Float32Array): Float32Array {
  if (data instanceof Float32Array && !quantization) return data;
  const result = out && out.length === data.length ? out : new Float32Array(data.length);
  if (quantization && !(data instanceof Float32Array)) {
    const { scale, zeroPoint } = quantization;
    for (let i = 0; i < data.length; i++) result[i] = scale * (data[i] - zeroPoint);
  } else {
    for (let i = 0; i < data.length; i++) result[i] = data[i];
  }
  return result;
}
