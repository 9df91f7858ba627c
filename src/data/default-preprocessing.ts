/**
 * The preprocessing a model input most likely wants, and how sure we are.
 *
 * In order:
 * 1. TFLite metadata (NormalizationOptions, ColorSpaceType): the model's author says so. Quantized
 *    models record the float model's normalization; the quantization then applies on top.
 * 2. A uint8 or int8 input's quantization: the whole pixel range 0..255 is taken to span the
 *    quantized range (uint8: q = pixel; int8: q = pixel - 128), i.e. mean = zeroPoint - qmin and
 *    std = 1 / scale. That is how converters quantize image inputs calibrated on a fixed range:
 *    [0, 1] inputs get scale 1/255 and [-1, 1] inputs scale 2/255. No question asked.
 * 3. Otherwise (float or int16 inputs without metadata) the input range cannot be known: a
 *    suggestion is returned with `needsUserInput` set, so that the UI asks and the CLI requires
 *    --mean/--std: [-1, 1] ((x - 127.5) / 127.5) for colour images, [0, 1] (x / 255) for
 *    grayscale ones, the two most common conventions.
 * Inputs that are not images (see imageInputShape) get no preprocessing: feed them .npy arrays.
 */
import { WorkbenchError } from '../errors';
import type { RuntimeDType } from '../runtime/types';
import type { ModelGraph, Tensor } from '../tflite/graph';
import { readModelMetadata, type ModelMetadataInfo } from '../tflite/metadata/read-metadata';
import { TensorType } from '../tflite/schema/generated/tflite_generated';
import { imageInputShape, type ModelInputInfo, type Preprocessing } from './preprocess';

export interface PreprocessingChoice {
  /** Null when the input is not an image. */
  preprocessing: Preprocessing | null;
  source: 'metadata' | 'quantization' | 'suggested' | 'not-an-image';
  /** True when the values are a guess the user should confirm or change. */
  needsUserInput: boolean;
  /** One line for the UI / CLI saying where the values come from. */
  reason: string;
}

const DTYPES: Partial<Record<TensorType, RuntimeDType>> = {
  [TensorType.FLOAT32]: 'float32',
  [TensorType.INT32]: 'int32',
  [TensorType.UINT8]: 'uint8',
  [TensorType.INT8]: 'int8',
  [TensorType.INT16]: 'int16',
};

/**
 * The main subgraph's inputs as ModelInputInfo, in the subgraph's order (LiteRT's loadModel gives
 * them in signature order; match by name when both are used). Dynamic dimensions are pinned to 1.
 */
export function graphInputs(graph: ModelGraph): ModelInputInfo[] {
  const main = graph.subgraphs[0];
  if (!main) return [];
  return main.inputs.map((t) => inputInfo(main.tensors[t]));
}

function inputInfo(tensor: Tensor): ModelInputInfo {
  const dtype = DTYPES[tensor.type];
  if (!dtype) throw new WorkbenchError('unsupported', `Input '${tensor.name}' has type ${TensorType[tensor.type] ?? tensor.type}; datasets feed float32, int32, uint8, int8 and int16 inputs.`);
  const q = tensor.quantization;
  const perTensor = q && q.scale?.length === 1 && q.scale[0] !== 0;
  return {
    name: tensor.name,
    dtype,
    shape: tensor.shape.map((d) => (d > 0 ? d : 1)),
    quantization: perTensor ? { scale: q.scale![0], zeroPoint: q.zeroPoint?.[0] ?? 0 } : null,
  };
}

/** Subgraph input position of `input`: an index, a tensor name, or a signature's input name. */
function inputPosition(graph: ModelGraph, input: number | string): number {
  const main = graph.subgraphs[0];
  const count = main?.inputs.length ?? 0;
  if (typeof input === 'number') {
    if (Number.isInteger(input) && input >= 0 && input < count) return input;
    throw new WorkbenchError('bad-input', `The model has ${count} input${count === 1 ? '' : 's'}; there is no input ${input}.`);
  }
  const byTensor = main.inputs.findIndex((t) => main.tensors[t].name === input);
  if (byTensor >= 0) return byTensor;
  for (const def of graph.signatureDefs) {
    if (def.subgraphIndex !== 0) continue;
    const mapped = def.inputs.find((m) => m.name === input);
    if (mapped) {
      const position = main.inputs.indexOf(mapped.tensorIndex);
      if (position >= 0) return position;
    }
  }
  const names = main.inputs.map((t) => `'${main.tensors[t].name}'`).join(', ');
  throw new WorkbenchError('bad-input', `The model has no input '${input}' (its inputs: ${names}).`);
}

/** See the module comment. `input` is an input position, tensor name or signature input name. */
export function defaultPreprocessing(graph: ModelGraph, input: number | string = 0): PreprocessingChoice {
  const position = inputPosition(graph, input);
  const tensor = graph.subgraphs[0].tensors[graph.subgraphs[0].inputs[position]];
  const info = inputInfo(tensor);
  const image = imageInputShape(info.shape);
  if (!image) {
    return {
      preprocessing: null,
      source: 'not-an-image',
      needsUserInput: false,
      reason: `Input '${tensor.name}' [${info.shape.join(', ')}] is not an image (expected [1, H, W, 1 or 3]); feed it .npy arrays.`,
    };
  }
  const base = { width: image.width, height: image.height, channels: image.channels, channelOrder: 'RGB' as const, resize: 'bilinear' as const, ...(image.layout === 'NCHW' ? { layout: 'NCHW' as const } : {}) };

  let metadata: ModelMetadataInfo | null = null;
  let metadataProblem = '';
  try {
    metadata = readModelMetadata(graph);
  } catch (error) {
    metadataProblem = ` (its metadata could not be read: ${error instanceof Error ? error.message : String(error)})`;
  }
  const meta = metadata?.inputs[position];
  if (meta?.mean && meta.std) {
    const fits = (v: number[]) => v.length === 1 || v.length === image.channels;
    if (fits(meta.mean) && fits(meta.std) && meta.std.every((s) => s !== 0)) {
      return {
        preprocessing: { ...base, mean: meta.mean, std: meta.std },
        source: 'metadata',
        needsUserInput: false,
        reason: `From the model's metadata: ${meta.colorSpace ?? (image.channels === 1 ? 'GRAYSCALE' : 'RGB')}, (x - ${list(meta.mean)}) / ${list(meta.std)}.`,
      };
    }
    metadataProblem = ` (its metadata gives mean [${meta.mean.join(', ')}] / std [${meta.std.join(', ')}], which does not fit ${image.channels} channel${image.channels === 1 ? '' : 's'})`;
  }

  const q = info.quantization;
  if (q && (info.dtype === 'uint8' || info.dtype === 'int8')) {
    const qmin = info.dtype === 'uint8' ? 0 : -128;
    const mean = q.zeroPoint - qmin;
    const std = 1 / q.scale;
    const low = (0 - mean) / std;
    const high = (255 - mean) / std;
    return {
      preprocessing: { ...base, mean: [mean], std: [std] },
      source: 'quantization',
      needsUserInput: false,
      reason: `No normalization in the model's metadata${metadataProblem}; from the ${info.dtype} input's quantization (scale ${q.scale}, zero point ${q.zeroPoint}): pixels 0..255 span the input's range, [${round(low)}, ${round(high)}].`,
    };
  }

  const suggested = image.channels === 1 ? { mean: [0], std: [255] } : { mean: [127.5], std: [127.5] };
  return {
    preprocessing: { ...base, ...suggested },
    source: 'suggested',
    needsUserInput: true,
    reason: `The model does not say how to normalize its ${info.dtype} input '${tensor.name}'${metadataProblem}; ${image.channels === 1 ? '[0, 1] (x / 255)' : '[-1, 1] ((x - 127.5) / 127.5)'} is only a guess: give mean and std.`,
  };
}

function list(values: number[]): string {
  return values.length === 1 ? String(values[0]) : `[${values.join(', ')}]`;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
