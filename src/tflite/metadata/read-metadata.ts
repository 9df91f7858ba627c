/**
 * TFLite model metadata: the "TFLITE_METADATA" buffer some models carry (a flatbuffer of its own,
 * identifier "M001", declared in metadata.fbs) plus the associated files zipped after the model.
 *
 * We read the parts that tell how to feed and read the model: per-input normalization (mean/std),
 * colour space and image size, the tensors' names in the metadata, and the labels file.
 */
import * as flatbuffers from 'flatbuffers';
import { unzipSync } from 'fflate';
import { WorkbenchError } from '../../errors';
import { CheckedByteBuffer } from '../checked-byte-buffer';
import type { ModelGraph } from '../graph';
import {
  AssociatedFile,
  AssociatedFileType,
  ColorSpaceType,
  ContentProperties,
  ImageProperties,
  ModelMetadata,
  NormalizationOptions,
  ProcessUnitOptions,
  type TensorMetadata,
} from './generated/metadata_generated';

/** The name of the model metadata entry that holds the flatbuffer. */
export const METADATA_NAME = 'TFLITE_METADATA';

export type ContentKind = 'image' | 'feature' | 'bounding-box' | 'audio';

export interface AssociatedFileInfo {
  name: string;
  type: 'labels' | 'value-labels' | 'vocabulary' | 'description' | 'score-calibration' | 'other';
  description: string | null;
  locale: string | null;
}

export interface TensorMetadataInfo {
  /** The name the metadata gives the tensor (often not the tensor's name in the graph). */
  name: string;
  description: string | null;
  content: ContentKind | null;
  /** Image inputs only; absent when the metadata says UNKNOWN. */
  colorSpace?: 'RGB' | 'GRAYSCALE';
  imageSize?: { width: number; height: number };
  /** (x - mean) / std, one value for all channels or one per channel. */
  mean?: number[];
  std?: number[];
  /** Expected value range per channel, when recorded (Stats). */
  min?: number[];
  max?: number[];
  associatedFiles: AssociatedFileInfo[];
}

export interface ModelMetadataInfo {
  name: string | null;
  description: string | null;
  version: string | null;
  author: string | null;
  license: string | null;
  /** Lowest metadata parser version that understands every field, e.g. "1.0.0". */
  minParserVersion: string | null;
  /** Main subgraph, in the order of its inputs and outputs. */
  inputs: TensorMetadataInfo[];
  outputs: TensorMetadataInfo[];
  /** Files attached to the model or subgraph (tensor-level ones are on the tensors). */
  associatedFiles: AssociatedFileInfo[];
  /** The classifier labels (first labels file of the first output that has one, else of the model). */
  labelsFile?: string;
  labels?: string[];
  /** Things that could not be read, e.g. a labels file missing from the appended zip. */
  problems: string[];
}

/**
 * The model's TFLite metadata, or null when it carries none. Throws WorkbenchError('malformed')
 * when the metadata buffer is there but is not a readable metadata flatbuffer.
 */
export function readModelMetadata(graph: ModelGraph): ModelMetadataInfo | null {
  const entry = graph.metadata.find((m) => m.name === METADATA_NAME);
  const data = entry ? graph.buffers[entry.buffer]?.data : undefined;
  if (!data || data.length === 0) return null;
  let info: ModelMetadataInfo;
  try {
    info = parseMetadata(data.slice());
  } catch (error) {
    if (error instanceof WorkbenchError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    throw new WorkbenchError('malformed', `The model's ${METADATA_NAME} is damaged: ${why}.`);
  }
  attachLabels(info, graph);
  return info;
}

function parseMetadata(bytes: Uint8Array): ModelMetadataInfo {
  if (bytes.length < 8) throw new WorkbenchError('malformed', `The model's ${METADATA_NAME} is too short (${bytes.length} bytes) to be metadata.`);
  const bb = new CheckedByteBuffer(bytes) as flatbuffers.ByteBuffer;
  if (!ModelMetadata.bufferHasIdentifier(bb)) {
    const found = String.fromCharCode(...bytes.subarray(4, 8)).replace(/[^\x20-\x7e]/g, '?');
    throw new WorkbenchError('malformed', `The model's ${METADATA_NAME} is not TFLite metadata (identifier '${found}', expected 'M001').`);
  }
  const root = ModelMetadata.getRootAsModelMetadata(bb);
  const main = root.subgraphMetadataLength() > 0 ? root.subgraphMetadata(0) : null;
  const inputs: TensorMetadataInfo[] = [];
  const outputs: TensorMetadataInfo[] = [];
  const associatedFiles: AssociatedFileInfo[] = [];
  if (main) {
    for (let i = 0; i < main.inputTensorMetadataLength(); i++) inputs.push(tensorInfo(main.inputTensorMetadata(i)!));
    for (let i = 0; i < main.outputTensorMetadataLength(); i++) outputs.push(tensorInfo(main.outputTensorMetadata(i)!));
    for (let i = 0; i < main.associatedFilesLength(); i++) associatedFiles.push(fileInfo(main.associatedFiles(i)!));
  }
  for (let i = 0; i < root.associatedFilesLength(); i++) associatedFiles.push(fileInfo(root.associatedFiles(i)!));
  return {
    name: root.name(),
    description: root.description(),
    version: root.version(),
    author: root.author(),
    license: root.license(),
    minParserVersion: root.minParserVersion(),
    inputs,
    outputs,
    associatedFiles,
    problems: [],
  };
}

function tensorInfo(fb: TensorMetadata): TensorMetadataInfo {
  const info: TensorMetadataInfo = {
    name: fb.name() ?? '',
    description: fb.description(),
    content: null,
    associatedFiles: [],
  };
  const content = fb.content();
  if (content) {
    const type = content.contentPropertiesType();
    info.content = CONTENT_KINDS[type] ?? null;
    if (type === ContentProperties.ImageProperties) {
      const image = content.contentProperties(new ImageProperties()) as ImageProperties | null;
      const space = image?.colorSpace();
      if (space === ColorSpaceType.RGB) info.colorSpace = 'RGB';
      else if (space === ColorSpaceType.GRAYSCALE) info.colorSpace = 'GRAYSCALE';
      const size = image?.defaultSize();
      if (size && size.width() > 0 && size.height() > 0) info.imageSize = { width: size.width(), height: size.height() };
    }
  }
  for (let i = 0; i < fb.processUnitsLength(); i++) {
    const unit = fb.processUnits(i)!;
    if (unit.optionsType() !== ProcessUnitOptions.NormalizationOptions) continue;
    const norm = unit.options(new NormalizationOptions()) as NormalizationOptions | null;
    if (!norm) continue;
    const mean = floats(norm.meanLength(), (j) => norm.mean(j));
    const std = floats(norm.stdLength(), (j) => norm.std(j));
    if (mean.length) info.mean = mean;
    if (std.length) info.std = std;
    break;
  }
  const stats = fb.stats();
  if (stats) {
    const min = floats(stats.minLength(), (j) => stats.min(j));
    const max = floats(stats.maxLength(), (j) => stats.max(j));
    if (min.length) info.min = min;
    if (max.length) info.max = max;
  }
  for (let i = 0; i < fb.associatedFilesLength(); i++) info.associatedFiles.push(fileInfo(fb.associatedFiles(i)!));
  return info;
}

const CONTENT_KINDS: Partial<Record<ContentProperties, ContentKind>> = {
  [ContentProperties.FeatureProperties]: 'feature',
  [ContentProperties.ImageProperties]: 'image',
  [ContentProperties.BoundingBoxProperties]: 'bounding-box',
  [ContentProperties.AudioProperties]: 'audio',
};

const FILE_TYPES: Partial<Record<AssociatedFileType, AssociatedFileInfo['type']>> = {
  [AssociatedFileType.TENSOR_AXIS_LABELS]: 'labels',
  [AssociatedFileType.TENSOR_VALUE_LABELS]: 'value-labels',
  [AssociatedFileType.VOCABULARY]: 'vocabulary',
  [AssociatedFileType.DESCRIPTIONS]: 'description',
  [AssociatedFileType.TENSOR_AXIS_SCORE_CALIBRATION]: 'score-calibration',
};

function fileInfo(fb: AssociatedFile): AssociatedFileInfo {
  return { name: fb.name() ?? '', type: FILE_TYPES[fb.type()] ?? 'other', description: fb.description(), locale: fb.locale() };
}

function floats(length: number, at: (i: number) => number | null): number[] {
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(at(i) ?? 0);
  return out;
}

/** Finds the classifier labels file and reads it from the appended zip. */
function attachLabels(info: ModelMetadataInfo, graph: ModelGraph): void {
  const candidates = [...info.outputs.flatMap((t) => t.associatedFiles), ...info.associatedFiles].filter((f) => f.type === 'labels' && f.name);
  // Prefer a file without a locale (or English) when several translations are attached.
  const file = candidates.find((f) => !f.locale || /^en\b/i.test(f.locale)) ?? candidates[0];
  if (!file) return;
  info.labelsFile = file.name;
  const text = associatedFileText(graph, file.name);
  if (text === null) {
    info.problems.push(`labels file '${file.name}' is named in the metadata but not in the model's appended zip`);
    return;
  }
  info.labels = parseLabels(text);
}

/** One label per line; a trailing empty line (final newline) is not a label. */
export function parseLabels(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((line) => line.trim());
}

/** The text of one file of the model's appended zip, or null when it is not there. */
export function associatedFileText(graph: ModelGraph, name: string): string | null {
  const zip = graph.appendedZip;
  if (!zip || !zip.fileNames.includes(name)) return null;
  try {
    const files = unzipSync(zip.bytes, { filter: (f) => f.name === name });
    const bytes = files[name];
    return bytes ? new TextDecoder().decode(bytes) : null;
  } catch {
    return null;
  }
}
