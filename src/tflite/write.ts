/**
 * writeModel: ModelGraph -> .tflite bytes.
 *
 * Buffer data is copied in one bulk `set` per buffer, aligned to 16 bytes (as the converter does,
 * so XNNPACK and mmap-ed loading can use weights in place), and placed at the end of the file.
 * Empty vectors and empty strings are omitted rather than written as empty: TFLite reads "absent"
 * and "empty" alike, and a present-but-empty shape_signature or quantization vector confuses some
 * runtimes. An appended zip (metadata associated files) is re-attached with its offsets moved.
 */
import * as flatbuffers from 'flatbuffers';
import { WorkbenchError } from '../errors';
import { placeZipAt } from './appended-zip';
import type { ModelGraph, Operator, OperatorCode, Quantization, SignatureDef, Subgraph, Tensor } from './graph';
import { MAX_FLATBUFFER_BYTES } from './read';
import { noteGraphWeights, noteWeightCopy } from './weight-ledger';
import {
  Buffer as FbBuffer,
  Metadata as FbMetadata,
  Model as FbModel,
  Operator as FbOperator,
  OperatorCode as FbOperatorCode,
  QuantizationParameters as FbQuantization,
  SignatureDef as FbSignatureDef,
  SubGraph as FbSubGraph,
  Tensor as FbTensor,
  TensorMap as FbTensorMap,
  BuiltinOptions,
  BuiltinOptions2,
  QuantizationDetails,
} from './schema/generated/tflite_generated';

const BUFFER_ALIGNMENT = 16;

/** The builder's private write cursor and storage, needed to copy byte vectors in bulk. */
interface BuilderInternals {
  space: number;
  bb: flatbuffers.ByteBuffer;
}

/**
 * `into` gives the memory the file is written to, once its size is known (default a new array): a
 * caller that hands the bytes on at once (LiteRT's wasm heap, runtime/load.ts) saves a copy of the weights.
 * Every byte of what it returns is written.
 */
export function writeModel(graph: ModelGraph, into?: (size: number) => Uint8Array): Uint8Array {
  const dataBytes = graph.buffers.reduce((sum, b) => sum + b.data.length + BUFFER_ALIGNMENT, 0);
  if (dataBytes > MAX_FLATBUFFER_BYTES) {
    throw new WorkbenchError(
      'too-large',
      `The model's weights take ${(dataBytes / 2 ** 30).toFixed(2)} GiB; a single .tflite flatbuffer holds at most 2 GiB.`,
    );
  }
  noteGraphWeights('graph buffers', graph, 'write');
  const builder = new flatbuffers.Builder(estimateSize(graph, dataBytes));
  const w = new Writer(builder);

  // Created first, so they land at the end of the file, after all tables.
  const buffers = graph.buffers.map((buffer) => {
    const data = buffer.data.length ? w.bytes(buffer.data, BUFFER_ALIGNMENT) : 0;
    FbBuffer.startBuffer(builder);
    if (data) FbBuffer.addData(builder, data);
    return FbBuffer.endBuffer(builder);
  });
  const operatorCodes = graph.operatorCodes.map((code) => w.operatorCode(code));
  const subgraphs = graph.subgraphs.map((subgraph) => w.subgraph(subgraph));
  const description = w.string(graph.description);
  const metadataBuffer = w.ints(graph.metadataBuffer, FbModel.createMetadataBufferVector);
  const metadata = w.tables(
    graph.metadata.map((entry) => {
      const name = w.string(entry.name);
      FbMetadata.startMetadata(builder);
      if (name) FbMetadata.addName(builder, name);
      FbMetadata.addBuffer(builder, entry.buffer);
      return FbMetadata.endMetadata(builder);
    }),
  );
  const signatureDefs = w.tables(graph.signatureDefs.map((def) => w.signatureDef(def)));
  const externalBufferGroups = w.tables((graph.externalBufferGroups ?? []).map((g) => g.pack(builder)));
  const externalBuffers = w.tables((graph.externalBuffers ?? []).map((b) => b.pack(builder)));

  const operatorCodesVector = w.tables(operatorCodes);
  const subgraphsVector = w.tables(subgraphs);
  const buffersVector = w.tables(buffers);
  FbModel.startModel(builder);
  FbModel.addVersion(builder, graph.version);
  if (operatorCodesVector) FbModel.addOperatorCodes(builder, operatorCodesVector);
  if (subgraphsVector) FbModel.addSubgraphs(builder, subgraphsVector);
  if (description) FbModel.addDescription(builder, description);
  if (buffersVector) FbModel.addBuffers(builder, buffersVector);
  if (metadataBuffer) FbModel.addMetadataBuffer(builder, metadataBuffer);
  if (metadata) FbModel.addMetadata(builder, metadata);
  if (signatureDefs) FbModel.addSignatureDefs(builder, signatureDefs);
  if (externalBufferGroups) FbModel.addExternalBufferGroups(builder, externalBufferGroups);
  if (externalBuffers) FbModel.addExternalBuffers(builder, externalBuffers);
  FbModel.finishModelBuffer(builder, FbModel.endModel(builder));

  const file = assemble(builder.asUint8Array(), w.deferred, graph, into ?? ((size) => new Uint8Array(size)));
  if (!into) noteWeightCopy('serialized', file, 'write');
  return file;
}

/**
 * The file: the builder's tables with every large byte vector copied straight into its reserved
 * slot, then the appended zip. The builder never holds the weights (its reserved slots are untouched,
 * lazily zeroed pages), so each weight byte is copied exactly once.
 */
function assemble(flatbuffer: Uint8Array, deferred: DeferredBytes[], graph: ModelGraph, into: (size: number) => Uint8Array): Uint8Array {
  const zip = graph.appendedZip ? placeZipAt(graph.appendedZip, flatbuffer.length) : null;
  const file = into(flatbuffer.length + (zip?.length ?? 0));
  const slots = deferred.map((d) => ({ data: d.data, start: flatbuffer.length - d.fromEnd })).sort((a, b) => a.start - b.start);
  let copied = 0;
  for (const slot of slots) {
    file.set(flatbuffer.subarray(copied, slot.start), copied);
    file.set(slot.data, slot.start);
    copied = slot.start + slot.data.length;
  }
  file.set(flatbuffer.subarray(copied), copied);
  if (zip) file.set(zip, flatbuffer.length);
  return file;
}

/** A byte vector whose contents go into the file at the end, `fromEnd` bytes before the buffer's end. */
interface DeferredBytes {
  data: Uint8Array;
  fromEnd: number;
}

function estimateSize(graph: ModelGraph, dataBytes: number): number {
  const tensors = graph.subgraphs.reduce((n, s) => n + s.tensors.length + s.operators.length, 0);
  const estimate = dataBytes + tensors * 256 + 64 * 1024;
  return Math.min(estimate, MAX_FLATBUFFER_BYTES);
}

/** Table writers; each creates its children first, as flatbuffers requires, then the table. */
class Writer {
  readonly deferred: DeferredBytes[] = [];

  constructor(private readonly b: flatbuffers.Builder) {}

  /**
   * A byte vector. Its contents are not copied into the builder: the space is reserved and the
   * bytes are copied once, into the final file (positions from the end survive builder growth).
   */
  bytes(data: Uint8Array, alignment: number): flatbuffers.Offset {
    const b = this.b;
    b.startVector(1, data.length, alignment);
    const internals = b as unknown as BuilderInternals;
    internals.space -= data.length;
    this.deferred.push({ data, fromEnd: internals.bb.capacity() - internals.space });
    return b.endVector();
  }

  string(value: string | null): flatbuffers.Offset {
    return value ? this.b.createString(value) : 0;
  }

  ints(
    values: number[] | null,
    create: (b: flatbuffers.Builder, data: number[]) => flatbuffers.Offset,
  ): flatbuffers.Offset {
    return values && values.length ? create(this.b, values) : 0;
  }

  tables(offsets: flatbuffers.Offset[]): flatbuffers.Offset {
    if (offsets.length === 0) return 0;
    this.b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) this.b.addOffset(offsets[i]);
    return this.b.endVector();
  }

  operatorCode(code: OperatorCode): flatbuffers.Offset {
    const b = this.b;
    const customCode = this.string(code.customCode);
    FbOperatorCode.startOperatorCode(b);
    FbOperatorCode.addDeprecatedBuiltinCode(b, code.deprecatedBuiltinCode);
    if (customCode) FbOperatorCode.addCustomCode(b, customCode);
    FbOperatorCode.addVersion(b, code.version);
    FbOperatorCode.addBuiltinCode(b, code.builtinCode);
    return FbOperatorCode.endOperatorCode(b);
  }

  subgraph(subgraph: Subgraph): flatbuffers.Offset {
    const b = this.b;
    const tensors = this.tables(subgraph.tensors.map((t) => this.tensor(t)));
    const inputs = this.ints(subgraph.inputs, FbSubGraph.createInputsVector);
    const outputs = this.ints(subgraph.outputs, FbSubGraph.createOutputsVector);
    const operators = this.tables(subgraph.operators.map((op) => this.operator(op)));
    const name = this.string(subgraph.name);
    FbSubGraph.startSubGraph(b);
    if (tensors) FbSubGraph.addTensors(b, tensors);
    if (inputs) FbSubGraph.addInputs(b, inputs);
    if (outputs) FbSubGraph.addOutputs(b, outputs);
    if (operators) FbSubGraph.addOperators(b, operators);
    if (name) FbSubGraph.addName(b, name);
    FbSubGraph.addDebugMetadataIndex(b, subgraph.debugMetadataIndex);
    return FbSubGraph.endSubGraph(b);
  }

  tensor(tensor: Tensor): flatbuffers.Offset {
    const b = this.b;
    const shape = this.ints(tensor.shape, FbTensor.createShapeVector);
    const name = this.string(tensor.name);
    const quantization = tensor.quantization ? this.quantization(tensor.quantization) : 0;
    const sparsity = tensor.sparsity ? tensor.sparsity.pack(b) : 0;
    const shapeSignature = this.ints(tensor.shapeSignature, FbTensor.createShapeSignatureVector);
    const variantTensors = this.tables((tensor.variantTensors ?? []).map((v) => v.pack(b)));
    FbTensor.startTensor(b);
    if (shape) FbTensor.addShape(b, shape);
    FbTensor.addType(b, tensor.type);
    FbTensor.addBuffer(b, tensor.buffer);
    if (name) FbTensor.addName(b, name);
    if (quantization) FbTensor.addQuantization(b, quantization);
    FbTensor.addIsVariable(b, tensor.isVariable);
    if (sparsity) FbTensor.addSparsity(b, sparsity);
    if (shapeSignature) FbTensor.addShapeSignature(b, shapeSignature);
    FbTensor.addHasRank(b, tensor.hasRank);
    if (variantTensors) FbTensor.addVariantTensors(b, variantTensors);
    FbTensor.addExternalBuffer(b, tensor.externalBuffer);
    return FbTensor.endTensor(b);
  }

  /**
   * Per-channel int8 weights and their int32 biases both carry an int64 zero point per channel, all
   * 0: one stored copy per distinct vector saves 16 bytes a channel (flatbuffers lets tables share a
   * vector), which on small per-channel models is a tenth of the file.
   */
  private zeroPoints = new Map<string, flatbuffers.Offset>();
  zeroPointVector(values: number[]): flatbuffers.Offset {
    const key = values.join(',');
    let offset = this.zeroPoints.get(key);
    if (offset === undefined) {
      offset = FbQuantization.createZeroPointVector(this.b, values.map((z) => BigInt(z)));
      this.zeroPoints.set(key, offset);
    }
    return offset;
  }

  quantization(q: Quantization): flatbuffers.Offset {
    const b = this.b;
    const min = this.ints(q.min, FbQuantization.createMinVector);
    const max = this.ints(q.max, FbQuantization.createMaxVector);
    const scale = this.ints(q.scale, FbQuantization.createScaleVector);
    const zeroPoint = q.zeroPoint && q.zeroPoint.length ? this.zeroPointVector(q.zeroPoint) : 0;
    const details = q.details && q.detailsType !== QuantizationDetails.NONE ? q.details.pack(b) : 0;
    FbQuantization.startQuantizationParameters(b);
    if (min) FbQuantization.addMin(b, min);
    if (max) FbQuantization.addMax(b, max);
    if (scale) FbQuantization.addScale(b, scale);
    if (zeroPoint) FbQuantization.addZeroPoint(b, zeroPoint);
    if (details) {
      FbQuantization.addDetailsType(b, q.detailsType);
      FbQuantization.addDetails(b, details);
    }
    FbQuantization.addQuantizedDimension(b, q.quantizedDimension);
    return FbQuantization.endQuantizationParameters(b);
  }

  operator(op: Operator): flatbuffers.Offset {
    const b = this.b;
    const inputs = this.ints(op.inputs, FbOperator.createInputsVector);
    const outputs = this.ints(op.outputs, FbOperator.createOutputsVector);
    const options = op.builtinOptions && op.builtinOptionsType !== BuiltinOptions.NONE ? op.builtinOptions.pack(b) : 0;
    const options2 = op.builtinOptions2 && op.builtinOptions2Type !== BuiltinOptions2.NONE ? op.builtinOptions2.pack(b) : 0;
    const customOptions = op.customOptions && op.customOptions.length ? this.bytes(op.customOptions, 1) : 0;
    const mutating = op.mutatingVariableInputs && op.mutatingVariableInputs.length
      ? FbOperator.createMutatingVariableInputsVector(b, op.mutatingVariableInputs)
      : 0;
    const intermediates = this.ints(op.intermediates, FbOperator.createIntermediatesVector);
    FbOperator.startOperator(b);
    FbOperator.addOpcodeIndex(b, op.opcodeIndex);
    if (inputs) FbOperator.addInputs(b, inputs);
    if (outputs) FbOperator.addOutputs(b, outputs);
    if (options) {
      FbOperator.addBuiltinOptionsType(b, op.builtinOptionsType);
      FbOperator.addBuiltinOptions(b, options);
    }
    if (customOptions) FbOperator.addCustomOptions(b, customOptions);
    FbOperator.addCustomOptionsFormat(b, op.customOptionsFormat);
    if (mutating) FbOperator.addMutatingVariableInputs(b, mutating);
    if (intermediates) FbOperator.addIntermediates(b, intermediates);
    if (options2) {
      FbOperator.addBuiltinOptions2Type(b, op.builtinOptions2Type);
      FbOperator.addBuiltinOptions2(b, options2);
    }
    FbOperator.addDebugMetadataIndex(b, op.debugMetadataIndex);
    return FbOperator.endOperator(b);
  }

  signatureDef(def: SignatureDef): flatbuffers.Offset {
    const b = this.b;
    const maps = (list: SignatureDef['inputs']) =>
      this.tables(
        list.map((map) => {
          const name = this.string(map.name);
          FbTensorMap.startTensorMap(b);
          if (name) FbTensorMap.addName(b, name);
          FbTensorMap.addTensorIndex(b, map.tensorIndex);
          return FbTensorMap.endTensorMap(b);
        }),
      );
    const inputs = maps(def.inputs);
    const outputs = maps(def.outputs);
    const key = this.string(def.signatureKey);
    const tag = this.string(def.deprecatedTag);
    FbSignatureDef.startSignatureDef(b);
    if (inputs) FbSignatureDef.addInputs(b, inputs);
    if (outputs) FbSignatureDef.addOutputs(b, outputs);
    if (key) FbSignatureDef.addSignatureKey(b, key);
    if (tag) FbSignatureDef.addDeprecatedTag(b, tag);
    FbSignatureDef.addSubgraphIndex(b, def.subgraphIndex);
    return FbSignatureDef.endSignatureDef(b);
  }
}
