/**
 * ModelGraph: a plain, mutable object model of a .tflite file.
 *
 * Readers and writers convert it from and to bytes; optimizers work on it and never see flatbuffer
 * offsets. Everything a file can carry has a place here so that read -> write -> read is lossless:
 * fields we do not interpret ourselves (op options, sparsity, variant types, external buffers) are
 * kept as the flatc object-API values, which know how to pack themselves again.
 */
import type {
  BuiltinOptions,
  BuiltinOptions2,
  BuiltinOperator,
  CustomOptionsFormat,
  ExternalBufferGroupT,
  ExternalBufferT,
  QuantizationDetails,
  SparsityParametersT,
  TensorType,
  VariantSubTypeT,
  OperatorT,
  QuantizationParametersT,
} from './schema/generated/tflite_generated';

export interface Quantization {
  /** Absent vectors stay null so that a rewrite does not invent empty ones. */
  min: number[] | null;
  max: number[] | null;
  scale: number[] | null;
  zeroPoint: number[] | null;
  quantizedDimension: number;
  detailsType: QuantizationDetails;
  details: QuantizationParametersT['details'];
}

export interface Tensor {
  name: string;
  type: TensorType;
  shape: number[];
  /** -1 marks a dynamic dimension; null when the file has no signature. */
  shapeSignature: number[] | null;
  /** Index into ModelGraph.buffers; 0 is the always-empty buffer. */
  buffer: number;
  quantization: Quantization | null;
  isVariable: boolean;
  sparsity: SparsityParametersT | null;
  hasRank: boolean;
  variantTensors: VariantSubTypeT[] | null;
  externalBuffer: number;
}

export interface Operator {
  opcodeIndex: number;
  /** Tensor indices; -1 marks an omitted optional input. */
  inputs: number[];
  outputs: number[];
  builtinOptionsType: BuiltinOptions;
  builtinOptions: OperatorT['builtinOptions'];
  builtinOptions2Type: BuiltinOptions2;
  builtinOptions2: OperatorT['builtinOptions2'];
  /** Custom op payload (usually a flexbuffer); inline or "large custom options" in the file alike. */
  customOptions: Uint8Array | null;
  customOptionsFormat: CustomOptionsFormat;
  mutatingVariableInputs: boolean[] | null;
  intermediates: number[] | null;
  debugMetadataIndex: number;
}

export interface Subgraph {
  name: string;
  tensors: Tensor[];
  inputs: number[];
  outputs: number[];
  operators: Operator[];
  debugMetadataIndex: number;
}

export interface OperatorCode {
  /** The real code; files from old converters only set deprecatedBuiltinCode (<= 127). */
  builtinCode: BuiltinOperator;
  deprecatedBuiltinCode: number;
  customCode: string | null;
  version: number;
}

export interface Buffer {
  /** The bytes, whether stored inline or after the flatbuffer (offset/size); empty for none. */
  data: Uint8Array;
}

export interface Metadata {
  name: string;
  buffer: number;
}

export interface TensorMap {
  name: string;
  tensorIndex: number;
}

export interface SignatureDef {
  signatureKey: string;
  subgraphIndex: number;
  inputs: TensorMap[];
  outputs: TensorMap[];
  deprecatedTag: string | null;
}

/** A zip archive appended after the flatbuffer (TFLite metadata "associated files", e.g. labels). */
export interface AppendedZip {
  /** The whole archive as it would stand alone, offsets relative to its own start. */
  bytes: Uint8Array;
  fileNames: string[];
}

export interface ModelGraph {
  version: number;
  description: string | null;
  operatorCodes: OperatorCode[];
  subgraphs: Subgraph[];
  buffers: Buffer[];
  metadataBuffer: number[] | null;
  metadata: Metadata[];
  signatureDefs: SignatureDef[];
  externalBufferGroups: ExternalBufferGroupT[] | null;
  externalBuffers: ExternalBufferT[] | null;
  appendedZip: AppendedZip | null;
}
