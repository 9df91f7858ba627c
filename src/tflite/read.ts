/**
 * readModel: .tflite bytes -> ModelGraph.
 *
 * Buffer data and custom options are zero-copy views into the given bytes (a 100 MB model is not
 * copied); everything else is decoded into plain objects. Any malformed input ends in one
 * WorkbenchError saying what is wrong; nothing here can hang or allocate more than the file implies.
 */
import * as flatbuffers from 'flatbuffers';
import { WorkbenchError } from '../errors';
import { CheckedByteBuffer, OutOfBoundsRead } from './checked-byte-buffer';
import { readAppendedZip } from './appended-zip';
import type {
  Buffer,
  ModelGraph,
  Operator,
  OperatorCode,
  Quantization,
  SignatureDef,
  Subgraph,
  Tensor,
} from './graph';
import {
  Model,
  unionToBuiltinOptions,
  unionToBuiltinOptions2,
  unionToQuantizationDetails,
  BuiltinOptions,
  BuiltinOptions2,
  QuantizationDetails,
  type Operator as FbOperator,
  type QuantizationParameters as FbQuantization,
  type SubGraph as FbSubGraph,
  type Tensor as FbTensor,
} from './schema/generated/tflite_generated';
import { validateGraph } from './validate';
import { noteWeightCopy } from './weight-ledger';

const FILE_IDENTIFIER = 'TFL3';
/** Flatbuffers address with signed 32-bit offsets; larger files need external buffers we do not write. */
export const MAX_FLATBUFFER_BYTES = 2 ** 31 - 1;

export function readModel(input: Uint8Array): ModelGraph {
  const bytes = ownAlignedCopy(input);
  noteWeightCopy('model bytes', bytes, 'read');
  checkHeader(bytes);
  let graph: ModelGraph;
  try {
    graph = decode(bytes);
  } catch (error) {
    throw asParseError(error, bytes.length);
  }
  validateGraph(graph);
  return graph;
}

/** Recognize what a non-TFLite file is, so the message can say "this is an ONNX file". */
function checkHeader(bytes: Uint8Array): void {
  if (bytes.length === 0) throw new WorkbenchError('empty-file', 'The file is empty (0 bytes), so it is not a TFLite model.');
  if (bytes.length < 8) {
    throw new WorkbenchError('truncated', `The file is only ${bytes.length} bytes long; a TFLite model has at least a header of 8 bytes.`);
  }
  const identifier = String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]);
  if (identifier === FILE_IDENTIFIER) return;
  const kind = guessFileKind(bytes);
  throw new WorkbenchError(
    'not-tflite',
    kind
      ? `This looks like ${kind}, not a TFLite model (.tflite files carry the identifier "TFL3" at byte 4).`
      : `Not a TFLite model: the identifier at byte 4 is ${JSON.stringify(identifier)}, expected "TFL3".`,
  );
}

function guessFileKind(bytes: Uint8Array): string | null {
  const ascii = (start: number, length: number) => String.fromCharCode(...bytes.subarray(start, start + length));
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return 'a zip archive (a Keras .keras file or a zipped folder?)';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'a gzip-compressed file (decompress it first)';
  if (ascii(1, 3) === 'HDF') return 'an HDF5 file (a Keras .h5 model? convert it with the TFLite converter first)';
  if (ascii(0, 6) === '\x93NUMPY') return 'a NumPy .npy array';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'a JPEG image';
  if (ascii(1, 3) === 'PNG') return 'a PNG image';
  if (ascii(0, 1) === '{' || ascii(0, 1) === '[') return 'a JSON/text file';
  // ONNX and TF SavedModel/GraphDef are protobufs: field 1 (ir_version) varint tag 0x08 for ONNX.
  if (bytes[0] === 0x08 && bytes[1] < 0x20) return 'an ONNX model (protobuf); convert it to TFLite first';
  if (bytes[0] === 0x0a || bytes[0] === 0x12) return 'a protobuf file (a TensorFlow GraphDef/SavedModel?), not a TFLite flatbuffer';
  return null;
}

function asParseError(error: unknown, size: number): WorkbenchError {
  if (error instanceof WorkbenchError) return error;
  if (error instanceof OutOfBoundsRead) {
    return new WorkbenchError(
      error.offset + error.size > size ? 'truncated' : 'malformed',
      `The TFLite file is truncated or corrupt: an ${error.message}.`,
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new WorkbenchError('malformed', `The TFLite file is corrupt and cannot be read (${detail}).`);
}

/**
 * The reader hands out typed-array views, which need the file to start on an aligned address of its
 * own ArrayBuffer; a view into a larger buffer is copied once.
 */
function ownAlignedCopy(input: Uint8Array): Uint8Array {
  if (input.byteOffset === 0 && input.buffer.byteLength === input.length && input.buffer instanceof ArrayBuffer) return input;
  return input.slice();
}

function decode(bytes: Uint8Array): ModelGraph {
  const bb = new CheckedByteBuffer(bytes);
  const model = Model.getRootAsModel(bb as flatbuffers.ByteBuffer);
  const operatorCodes: OperatorCode[] = [];
  for (let i = 0; i < model.operatorCodesLength(); i++) {
    const code = model.operatorCodes(i)!;
    operatorCodes.push({
      builtinCode: code.builtinCode(),
      deprecatedBuiltinCode: code.deprecatedBuiltinCode(),
      customCode: code.customCode(),
      version: code.version(),
    });
  }
  const subgraphs: Subgraph[] = [];
  for (let i = 0; i < model.subgraphsLength(); i++) subgraphs.push(readSubgraph(model.subgraphs(i)!, bytes, bb));

  const buffers: Buffer[] = [];
  for (let i = 0; i < model.buffersLength(); i++) {
    const buffer = model.buffers(i)!;
    buffers.push({ data: readBufferData(buffer, bytes, bb) });
  }

  const metadata = [];
  for (let i = 0; i < model.metadataLength(); i++) {
    const entry = model.metadata(i)!;
    metadata.push({ name: entry.name() ?? '', buffer: entry.buffer() });
  }

  const signatureDefs: SignatureDef[] = [];
  for (let i = 0; i < model.signatureDefsLength(); i++) {
    const def = model.signatureDefs(i)!;
    const maps = (count: number, at: (j: number) => { name(): string | null; tensorIndex(): number } | null) =>
      Array.from({ length: count }, (_, j) => {
        const map = at(j)!;
        return { name: map.name() ?? '', tensorIndex: map.tensorIndex() };
      });
    signatureDefs.push({
      signatureKey: def.signatureKey() ?? '',
      subgraphIndex: def.subgraphIndex(),
      inputs: maps(def.inputsLength(), (j) => def.inputs(j)),
      outputs: maps(def.outputsLength(), (j) => def.outputs(j)),
      deprecatedTag: def.deprecatedTag(),
    });
  }

  const externalBufferGroups = model.externalBufferGroupsLength()
    ? Array.from({ length: model.externalBufferGroupsLength() }, (_, i) => model.externalBufferGroups(i)!.unpack())
    : null;
  const externalBuffers = model.externalBuffersLength()
    ? Array.from({ length: model.externalBuffersLength() }, (_, i) => model.externalBuffers(i)!.unpack())
    : null;

  return {
    version: model.version(),
    description: model.description(),
    operatorCodes,
    subgraphs,
    buffers,
    metadataBuffer: nonEmpty(model.metadataBufferArray()),
    metadata,
    signatureDefs,
    externalBufferGroups,
    externalBuffers,
    appendedZip: readAppendedZip(bytes),
  };
}

function readSubgraph(fb: FbSubGraph, bytes: Uint8Array, bb: CheckedByteBuffer): Subgraph {
  const tensors: Tensor[] = [];
  for (let i = 0; i < fb.tensorsLength(); i++) tensors.push(readTensor(fb.tensors(i)!));
  const operators: Operator[] = [];
  for (let i = 0; i < fb.operatorsLength(); i++) operators.push(readOperator(fb.operators(i)!, bytes, bb));
  return {
    name: fb.name() ?? '',
    tensors,
    inputs: ints(fb.inputsArray()),
    outputs: ints(fb.outputsArray()),
    operators,
    debugMetadataIndex: fb.debugMetadataIndex(),
  };
}

function readTensor(fb: FbTensor): Tensor {
  const quantization = fb.quantization();
  const sparsity = fb.sparsity();
  return {
    name: fb.name() ?? '',
    type: fb.type(),
    shape: ints(fb.shapeArray()),
    shapeSignature: nonEmpty(fb.shapeSignatureArray()),
    buffer: fb.buffer(),
    quantization: quantization ? readQuantization(quantization) : null,
    isVariable: fb.isVariable(),
    sparsity: sparsity ? sparsity.unpack() : null,
    hasRank: fb.hasRank(),
    variantTensors: fb.variantTensorsLength()
      ? Array.from({ length: fb.variantTensorsLength() }, (_, i) => fb.variantTensors(i)!.unpack())
      : null,
    externalBuffer: fb.externalBuffer(),
  };
}

function readQuantization(fb: FbQuantization): Quantization {
  const detailsType = fb.detailsType();
  let details: Quantization['details'] = null;
  if (detailsType !== QuantizationDetails.NONE) {
    const accessor = unionToQuantizationDetails(detailsType, (obj) => fb.details(obj));
    if (!accessor) throw new WorkbenchError('malformed', `A tensor has quantization details of unknown kind ${detailsType}.`);
    details = accessor.unpack();
  }
  const zeroPointCount = fb.zeroPointLength();
  return {
    min: nonEmpty(fb.minArray()),
    max: nonEmpty(fb.maxArray()),
    scale: nonEmpty(fb.scaleArray()),
    zeroPoint: zeroPointCount ? Array.from({ length: zeroPointCount }, (_, i) => Number(fb.zeroPoint(i)!)) : null,
    quantizedDimension: fb.quantizedDimension(),
    detailsType,
    details,
  };
}

function readOperator(fb: FbOperator, bytes: Uint8Array, bb: CheckedByteBuffer): Operator {
  const builtinOptionsType = fb.builtinOptionsType();
  let builtinOptions: Operator['builtinOptions'] = null;
  if (builtinOptionsType !== BuiltinOptions.NONE) {
    const accessor = unionToBuiltinOptions(builtinOptionsType, (obj) => fb.builtinOptions(obj));
    if (!accessor) throw new WorkbenchError('malformed', `An operator has builtin options of unknown kind ${builtinOptionsType}.`);
    builtinOptions = accessor.unpack();
  }
  const builtinOptions2Type = fb.builtinOptions2Type();
  let builtinOptions2: Operator['builtinOptions2'] = null;
  if (builtinOptions2Type !== BuiltinOptions2.NONE) {
    const accessor = unionToBuiltinOptions2(builtinOptions2Type, (obj) => fb.builtinOptions2(obj));
    if (!accessor) throw new WorkbenchError('malformed', `An operator has builtin options of unknown kind ${builtinOptions2Type}.`);
    builtinOptions2 = accessor.unpack();
  }
  return {
    opcodeIndex: fb.opcodeIndex(),
    inputs: ints(fb.inputsArray()),
    outputs: ints(fb.outputsArray()),
    builtinOptionsType,
    builtinOptions,
    builtinOptions2Type,
    builtinOptions2,
    customOptions: readCustomOptions(fb, bytes, bb),
    customOptionsFormat: fb.customOptionsFormat(),
    mutatingVariableInputs: fb.mutatingVariableInputsLength()
      ? Array.from(fb.mutatingVariableInputsArray()!, (v) => v !== 0)
      : null,
    intermediates: nonEmpty(fb.intermediatesArray()),
    debugMetadataIndex: fb.debugMetadataIndex(),
  };
}

/** Field slots (vtable offsets) from the schema: Operator.custom_options = 6, Buffer.data = 4. */
const OPERATOR_CUSTOM_OPTIONS_SLOT = 14;
const BUFFER_DATA_SLOT = 4;

function readCustomOptions(fb: FbOperator, bytes: Uint8Array, bb: CheckedByteBuffer): Uint8Array | null {
  const largeOffset = fb.largeCustomOptionsOffset();
  if (largeOffset > 1n) return outsideFlatbuffer(bytes, largeOffset, fb.largeCustomOptionsSize(), 'custom options');
  const field = bb.__offset(fb.bb_pos, OPERATOR_CUSTOM_OPTIONS_SLOT);
  return field ? bb.vectorBytes(fb.bb_pos + field, 1) : null;
}

function readBufferData(
  buffer: { bb_pos: number; offset(): bigint; size(): bigint },
  bytes: Uint8Array,
  bb: CheckedByteBuffer,
): Uint8Array {
  const offset = buffer.offset();
  // offset 0 or 1 means "inline"; larger values address data stored after the flatbuffer.
  if (offset > 1n) return outsideFlatbuffer(bytes, offset, buffer.size(), 'buffer');
  const field = bb.__offset(buffer.bb_pos, BUFFER_DATA_SLOT);
  return field ? bb.vectorBytes(buffer.bb_pos + field, 1) : new Uint8Array(0);
}

function outsideFlatbuffer(bytes: Uint8Array, offset: bigint, size: bigint, what: string): Uint8Array {
  const end = offset + size;
  if (end > BigInt(bytes.length)) {
    throw new WorkbenchError('truncated', `A ${what} stored after the flatbuffer ends at byte ${end}, past the end of the ${bytes.length}-byte file.`);
  }
  return bytes.subarray(Number(offset), Number(end));
}

function ints(array: ArrayLike<number> | null): number[] {
  return array ? Array.from(array) : [];
}

/** Absent and empty vectors mean the same in TFLite; both read as null so rewrites stay stable. */
function nonEmpty(array: ArrayLike<number> | null): number[] | null {
  return array && array.length ? Array.from(array) : null;
}
