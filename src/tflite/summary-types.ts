/** The shape of a model summary; plain data, so it crosses worker boundaries and prints as JSON. */

export type QuantizationState =
  | 'float32'
  | 'float16'
  | 'dynamic-range'
  | 'weight-only-int8'
  | 'int8'
  | 'uint8'
  | '16x8'
  | 'mixed'
  | 'no-weights';

export interface TensorQuantizationInfo {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TensorInfo {
  name: string;
  /** Static shape as stored; dynamic dims show as -1 in shapeSignature. */
  shape: number[];
  shapeSignature: number[] | null;
  dtype: string;
  quantization: TensorQuantizationInfo | null;
}

export interface LargestTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: number;
}

export interface SignatureInfo {
  key: string;
  subgraphIndex: number;
  inputs: string[];
  outputs: string[];
}

/** One operator in execution order, with the dtypes flowing through it. */
export interface OperatorInfo {
  /** Subgraph index (0 is the main graph) and position in that subgraph's execution order. */
  subgraph: number;
  index: number;
  op: string;
  /** Dtypes of the non-constant inputs (activations) and of the outputs, in operand order. */
  inputDtypes: string[];
  outputDtypes: string[];
  /** Dtypes of the constant inputs (weights, biases, shapes); empty when the op has none. */
  weightDtypes: string[];
}

export interface ModelSummary {
  /** Raw file size and gzip (level 9) size in bytes. */
  bytes: number;
  gzipBytes: number;
  schemaVersion: number;
  description: string | null;
  subgraphCount: number;
  /** Inputs and outputs of the main (first) subgraph. */
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  signatures: SignatureInfo[];
  /** Op name -> count over all subgraphs (custom ops by their custom code). */
  ops: Record<string, number>;
  opCount: number;
  /** Every operator in execution order (subgraph by subgraph) with its input / output / weight dtypes. */
  operatorList: OperatorInfo[];
  /** Number of elements in constant (weight) tensors. */
  params: number;
  /** Bytes of constant tensor data by dtype name. */
  bytesByDtype: Record<string, number>;
  quantization: QuantizationState;
  largestTensors: LargestTensor[];
  customOps: string[];
  metadata: { name: string; bytes: number }[];
  /** Files of a zip appended after the flatbuffer (TFLite metadata associated files). */
  associatedFiles: string[];
  /** Things the runtime is known not to take (variable tensors, dynamic batch...), one line each. */
  notes: string[];
}
