/** The LiteRT.js adapter's types: element types, tensors, and a model as load.ts gives it. */

/** Element types that go in and out of LiteRT.js (int8 and int16 thanks to our patch of its table). */
export type RuntimeDType = 'float32' | 'int32' | 'uint8' | 'int8' | 'int16';
export type RuntimeData = Float32Array | Int32Array | Uint8Array | Int8Array | Int16Array;

export interface RuntimeTensorInfo {
  /** The signature's name for the tensor (the tensor name when the file has no signature defs). */
  name: string;
  dtype: RuntimeDType;
  /** Static shape, as the model runs it (dynamic dimensions pinned). */
  shape: number[];
  /** Per-tensor quantization from the file (real = scale * (q - zeroPoint)), or null. */
  quantization: { scale: number; zeroPoint: number } | null;
}

export interface RuntimeTensor {
  name: string;
  dtype: RuntimeDType;
  shape: number[];
  data: RuntimeData;
}

export interface LoadedModel {
  inputs: RuntimeTensorInfo[];
  outputs: RuntimeTensorInfo[];
  /** The signature being run, and all the model has (a model without signature defs has one). */
  signature: string;
  signatures: string[];
  /** What prepareForRuntime changed in the evaluated copy; empty when the bytes ran as given. */
  changes: string[];
  /** Warnings and errors LiteRT printed while loading a model that nevertheless loaded. */
  warnings: string[];
  /** One inference; inputs in the order of `inputs`, each with the element count of its shape. */
  run(inputs: RuntimeData[]): Promise<RuntimeTensor[]>;
  /** Frees the wasm memory; the model cannot run afterwards. Safe to call twice. */
  delete(): void;
}

/** The typed array of each element type. */
export const TYPED_ARRAYS = {
  float32: Float32Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
} as const;
