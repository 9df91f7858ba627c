/**
 * The layer-input sampler's rows cut inside the LiteRT run instead of copied out whole.
 *
 * The sampler keeps a few rows per layer and sample (layer-inputs.ts), and which positions it cuts
 * depends only on its seeded generators, never on the values: so they are drawn before the run and
 * handed to the model as one int32 input of pixel indices. Right after the op that writes a layer's
 * input, the model gets PAD (zeros where a patch hangs over the border, only when it can) ->
 * RESHAPE to [pixels, channels] -> GATHER of that layer's SLICE of the indices -> RESHAPE to 1-D;
 * one CONCATENATION joins every layer's rows into the model's only output. The rows are the same
 * values the cutter takes from the tapped activations (GATHER and PAD only copy; the padding is +0 as
 * the cutter's zeros), so the reservoirs end up bit-identical (rows-in-litert.test.ts), while a run
 * copies out a few hundred thousand values instead of every layer input (pose_landmark_heavy: 26 M
 * values, 104 MB a sample) and the activations are freed as in the plain model.
 */
import { WorkbenchError } from '../../errors';
import { loadGraph } from '../../runtime/load';
import type { RuntimeData, RuntimeTensorInfo } from '../../runtime/types';
import { addInt32Constant, addTensor, cloneGraph, newOperator, newTensor, opcodeIndex } from '../../tflite/edit';
import type { ModelGraph, Operator } from '../../tflite/graph';
import { producers } from '../../tflite/queries';
import { BuiltinOperator, BuiltinOptions, ConcatenationOptionsT, GatherOptionsT, ReshapeOptionsT, TensorType } from '../../tflite/schema/generated/tflite_generated';
import type { LayerSite } from './layer-sites';

/** One layer's gather: `rows` rows a sample, their pixel indices from `indexOffset`, their values from `valueOffset` of the output. */
export interface RowGather {
  site: LayerSite;
  rows: number;
  indexOffset: number;
  valueOffset: number;
}

export interface RowGatherModel {
  graph: ModelGraph;
  gathers: RowGather[];
  /** Length of the index input and of the output. */
  indices: number;
  values: number;
  /** The output tensor holding the rows (subgraph 0). */
  rowsTensor: number;
}

/** The name of the int32 input of pixel indices. */
export const INDEX_INPUT = 'layer_rows_indices';
const ROWS_OUTPUT = 'layer_rows';

export interface RowGatherOptions {
  /**
   * Where the gathers run: right after the op writing each layer input ('producers', default: the
   * inputs are freed as in the plain model), or after every op of the model ('end': one unbroken
   * run of the model's own ops, for a model that keeps its activations alive anyway).
   */
  at?: 'producers' | 'end';
  /** Keep the model's own outputs (first), the rows after them; default: the rows are the only output. */
  keepOutputs?: boolean;
}

/** A copy of `graph` that outputs `rows[i]` rows of `sites[i]` at the pixel indices of its extra int32 input (see the header). */
export function withRowGathers(graph: ModelGraph, sites: readonly LayerSite[], rows: readonly number[], options: RowGatherOptions = {}): RowGatherModel {
  const model = cloneGraph(graph);
  const subgraph = model.subgraphs[0];
  const gathers: RowGather[] = [];
  let indices = 0;
  let values = 0;
  sites.forEach((site, i) => {
    gathers.push({ site, rows: rows[i], indexOffset: indices, valueOffset: values });
    indices += rows[i] * site.gather.pixelsPerRow;
    values += rows[i] * site.width;
  });
  if (!gathers.length || !values) throw new WorkbenchError('bad-input', 'no layer rows to gather');
  const indexInput = addTensor(subgraph, newTensor({ name: INDEX_INPUT, type: TensorType.INT32, shape: [indices] }));
  const op = (builtin: BuiltinOperator, inputs: number[], outputs: number[], type = BuiltinOptions.NONE, options: Operator['builtinOptions'] = null) =>
    newOperator(opcodeIndex(model, builtin, 1), inputs, outputs, type, options);
  const float = (name: string, shape: number[]) => addTensor(subgraph, newTensor({ name, type: TensorType.FLOAT32, shape }));

  // The ops of each gather, to run right after the op writing its input (first for model inputs).
  const after = new Map<number, Operator[]>();
  const producer = producers(subgraph);
  const flats: number[] = [];
  for (const g of gathers) {
    const { site } = g;
    const name = `${subgraph.tensors[site.input].name}/rows_${site.opIndex}`;
    const ops: Operator[] = [];
    let source = site.input;
    if (site.gather.pad) {
      const shape = subgraph.tensors[site.input].shape.map((d, axis) => d + site.gather.pad![axis][0] + site.gather.pad![axis][1]);
      const paddings = addInt32Constant(model, subgraph, `${name}/paddings`, site.gather.pad.flat());
      subgraph.tensors[paddings].shape = [site.gather.pad.length, 2];
      const padded = float(`${name}/padded`, shape);
      ops.push(op(BuiltinOperator.PAD, [source, paddings], [padded]));
      source = padded;
    }
    const pixelShape = [site.gather.pixels, site.channels];
    const pixels = float(`${name}/pixels`, pixelShape);
    ops.push(op(BuiltinOperator.RESHAPE, [source, addInt32Constant(model, subgraph, `${name}/pixels_shape`, pixelShape)], [pixels], BuiltinOptions.ReshapeOptions, new ReshapeOptionsT(pixelShape)));
    const count = g.rows * site.gather.pixelsPerRow;
    const slice = addTensor(subgraph, newTensor({ name: `${name}/indices`, type: TensorType.INT32, shape: [count] }));
    ops.push(op(BuiltinOperator.SLICE, [indexInput, addInt32Constant(model, subgraph, `${name}/begin`, [g.indexOffset]), addInt32Constant(model, subgraph, `${name}/size`, [count])], [slice]));
    const gathered = float(`${name}/gathered`, [count, site.channels]);
    ops.push(op(BuiltinOperator.GATHER, [pixels, slice], [gathered], BuiltinOptions.GatherOptions, new GatherOptionsT(0, 0)));
    const length = count * site.channels;
    const flat = float(`${name}/flat`, [length]);
    ops.push(op(BuiltinOperator.RESHAPE, [gathered, addInt32Constant(model, subgraph, `${name}/flat_shape`, [length])], [flat], BuiltinOptions.ReshapeOptions, new ReshapeOptionsT([length])));
    flats.push(flat);
    const at = options.at === 'end' ? subgraph.operators.length - 1 : (producer[site.input] ?? -1);
    after.set(at, [...(after.get(at) ?? []), ...ops]);
  }
  const operators = [...(after.get(-1) ?? [])];
  subgraph.operators.forEach((o, i) => operators.push(o, ...(after.get(i) ?? [])));
  const output = float(ROWS_OUTPUT, [values]);
  operators.push(op(BuiltinOperator.CONCATENATION, flats, [output], BuiltinOptions.ConcatenationOptions, new ConcatenationOptionsT(0)));
  subgraph.operators = operators;
  subgraph.inputs = [...subgraph.inputs, indexInput];
  subgraph.outputs = options.keepOutputs ? [...subgraph.outputs, output] : [output];
  for (const def of model.signatureDefs.filter((d) => d.subgraphIndex === 0)) {
    def.inputs = [...def.inputs, { name: INDEX_INPUT, tensorIndex: indexInput }];
    def.outputs = options.keepOutputs ? [...def.outputs, { name: ROWS_OUTPUT, tensorIndex: output }] : [{ name: ROWS_OUTPUT, tensorIndex: output }];
  }
  return { graph: model, gathers, indices, values, rowsTensor: output };
}

export interface RowGatherer extends RowGatherModel {
  /** The model's own inputs, as LiteRT describes them (the index input left out). */
  inputs: RuntimeTensorInfo[];
  /** The rows at `indices` for one sample's model inputs. */
  run(inputs: RuntimeData[], indices: Int32Array): Promise<Float32Array>;
  delete(): void;
}

/** Loads withRowGathers's model into LiteRT; rejects if LiteRT cannot load it. */
export async function loadRowGatherer(graph: ModelGraph, sites: readonly LayerSite[], rows: readonly number[]): Promise<RowGatherer> {
  const built = withRowGathers(graph, sites, rows);
  const model = await loadGraph(built.graph);
  const indexPosition = model.inputs.findIndex((info) => info.name === INDEX_INPUT);
  if (indexPosition < 0 || model.outputs.length !== 1) {
    model.delete();
    throw new WorkbenchError('runtime', 'LiteRT did not expose the layer rows model as built');
  }
  return {
    ...built,
    inputs: model.inputs.filter((_, i) => i !== indexPosition),
    async run(inputs, indices) {
      const all = [...inputs];
      all.splice(indexPosition, 0, indices);
      const [out] = await model.run(all);
      if (!(out.data instanceof Float32Array) || out.data.length !== built.values) {
        throw new WorkbenchError('runtime', `LiteRT returned ${out.data.length} layer row values, expected ${built.values}.`);
      }
      return out.data;
    },
    delete: () => model.delete(),
  };
}
