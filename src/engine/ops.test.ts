/**
 * Each kernel against LiteRT on one-op (or two-op) models built here, for the ops and options the
 * shared models do not exercise: strided slices with masks, PADV2 / MIRROR_PAD, GATHER with axis and
 * batch_dims, GATHER_ND, SPLIT / SPLIT_V, reductions with keep_dims, BATCH_MATMUL with adj_x / adj_y,
 * every activation, unary math, comparisons feeding SELECT, CAST, resize options, TRANSPOSE_CONV with
 * VALID padding, ... Float outputs agree to 1e-5 relative, integer outputs exactly; each model also
 * runs with a batch of 3 where dimension 0 is a batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { newGraph, newTensor, opcodeIndex } from '../tflite/edit';
import type { ModelGraph, Operator } from '../tflite/graph';
import { writeModel } from '../tflite/write';
import { readModel } from '../tflite/read';
import * as s from '../tflite/schema/generated/tflite_generated';
import { BuiltinOperator as Op, BuiltinOptions as O, TensorType } from '../tflite/schema/generated/tflite_generated';
import { initNodeEngine } from './backend-node';
import { engineOutputs, maxRelativeError, runtimeReals } from './engine-test-support';
import { GraphExecutor } from './executor';

/** Builds a one-subgraph model tensor by tensor. */
class Builder {
  readonly graph: ModelGraph = newGraph('engine op test');
  private get sg() {
    return this.graph.subgraphs[0];
  }
  tensor(shape: number[], type: TensorType = TensorType.FLOAT32, data?: ArrayLike<number>): number {
    let buffer = 0;
    if (data) {
      const typed = type === TensorType.FLOAT32 ? Float32Array.from(data) : Int32Array.from(data);
      this.graph.buffers.push({ data: new Uint8Array(typed.buffer) });
      buffer = this.graph.buffers.length - 1;
    }
    this.sg.tensors.push(newTensor({ name: `t${this.sg.tensors.length}`, type, shape, buffer }));
    return this.sg.tensors.length - 1;
  }
  input(shape: number[], type: TensorType = TensorType.FLOAT32): number {
    const t = this.tensor(shape, type);
    this.sg.inputs.push(t);
    return t;
  }
  ints(values: number[], shape = [values.length]): number {
    return this.tensor(shape, TensorType.INT32, values);
  }
  floats(values: number[], shape = [values.length]): number {
    return this.tensor(shape, TensorType.FLOAT32, values);
  }
  /** Adds an op writing new tensors of the given shapes (and types); returns their indices. */
  op(code: Op, inputs: number[], outShapes: number[][], options?: [O, unknown], outTypes: TensorType[] = []): number[] {
    const outputs = outShapes.map((shape, i) => this.tensor(shape, outTypes[i] ?? TensorType.FLOAT32));
    const op: Operator = {
      opcodeIndex: opcodeIndex(this.graph, code, 1),
      inputs,
      outputs,
      builtinOptionsType: options?.[0] ?? O.NONE,
      builtinOptions: (options?.[1] ?? null) as Operator['builtinOptions'],
      builtinOptions2Type: s.BuiltinOptions2.NONE,
      builtinOptions2: null,
      customOptions: null,
      customOptionsFormat: s.CustomOptionsFormat.FLEXBUFFERS,
      mutatingVariableInputs: null,
      intermediates: null,
      debugMetadataIndex: -1,
    };
    this.sg.operators.push(op);
    return outputs;
  }
  output(...t: number[]): Uint8Array {
    this.sg.outputs.push(...t);
    return writeModel(this.graph);
  }
}

type Case = [name: string, build: (b: Builder) => Uint8Array, batchable?: boolean];

const unary = (code: Op, shape = [2, 3, 4]) => (b: Builder) => b.output(...b.op(code, [b.input(shape)], [shape]));
/** ABS first, so SQRT / RSQRT / LOG see positive values. */
const positive = (code: Op) => (b: Builder) => {
  const [a] = b.op(Op.ABS, [b.input([2, 5])], [[2, 5]]);
  const [c] = b.op(Op.ADD, [a, b.floats([0.01], [1])], [[2, 5]], [O.AddOptions, new s.AddOptionsT()]);
  return b.output(...b.op(code, [c], [[2, 5]]));
};
const compareSelect = (code: Op, v2: boolean) => (b: Builder) => {
  const x = b.input([2, 3, 4]);
  const y = b.input([2, 3, 4]);
  const [cond] = b.op(code, [x, y], [[2, 3, 4]], undefined, [TensorType.BOOL]);
  return b.output(...b.op(v2 ? Op.SELECT_V2 : Op.SELECT, [cond, x, y], [[2, 3, 4]]));
};

const CASES: Case[] = [
  ['STRIDED_SLICE strides 2, begin/end masks', (b) => b.output(...b.op(Op.STRIDED_SLICE, [b.input([2, 5, 6, 3]), b.ints([0, 1, -5, 0]), b.ints([1, 4, 6, 3]), b.ints([1, 1, 2, 1])], [[2, 3, 3, 3]], [O.StridedSliceOptions, new s.StridedSliceOptionsT(1, 9)])), true],
  ['STRIDED_SLICE shrink axis, negative indices', (b) => b.output(...b.op(Op.STRIDED_SLICE, [b.input([1, 6, 4]), b.ints([0, -4, 0]), b.ints([1, -1, 4]), b.ints([1, 1, 1])], [[3, 4]], [O.StridedSliceOptions, new s.StridedSliceOptionsT(0, 4, 0, 0, 1)]))],
  ['STRIDED_SLICE negative stride', (b) => b.output(...b.op(Op.STRIDED_SLICE, [b.input([2, 7]), b.ints([0, 5]), b.ints([2, 0]), b.ints([1, -2])], [[2, 3]], [O.StridedSliceOptions, new s.StridedSliceOptionsT()])), true],
  ['SLICE size -1', (b) => b.output(...b.op(Op.SLICE, [b.input([2, 5, 6]), b.ints([0, 1, 2]), b.ints([-1, 3, 2])], [[2, 3, 2]], [O.SliceOptions, new s.SliceOptionsT()])), true],
  ['PAD', (b) => b.output(...b.op(Op.PAD, [b.input([1, 3, 4, 2]), b.ints([0, 0, 1, 2, 2, 1, 0, 0], [4, 2])], [[1, 6, 7, 2]], [O.PadOptions, new s.PadOptionsT()])), true],
  ['PADV2 constant 0.5', (b) => b.output(...b.op(Op.PADV2, [b.input([1, 3, 4, 2]), b.ints([0, 0, 1, 0, 0, 3, 1, 1], [4, 2]), b.floats([0.5], [])], [[1, 4, 7, 4]], [O.PadV2Options, new s.PadV2OptionsT()])), true],
  ['MIRROR_PAD reflect', (b) => b.output(...b.op(Op.MIRROR_PAD, [b.input([1, 4, 5, 2]), b.ints([0, 0, 2, 1, 1, 2, 0, 0], [4, 2])], [[1, 7, 8, 2]], [O.MirrorPadOptions, new s.MirrorPadOptionsT(s.MirrorPadMode.REFLECT)])), true],
  ['MIRROR_PAD symmetric', (b) => b.output(...b.op(Op.MIRROR_PAD, [b.input([1, 4, 5, 2]), b.ints([0, 0, 2, 1, 1, 2, 0, 0], [4, 2])], [[1, 7, 8, 2]], [O.MirrorPadOptions, new s.MirrorPadOptionsT(s.MirrorPadMode.SYMMETRIC)])), true],
  ['SPLIT', (b) => b.output(...b.op(Op.SPLIT, [b.ints([-1], []), b.input([2, 3, 6])], [[2, 3, 2], [2, 3, 2], [2, 3, 2]], [O.SplitOptions, new s.SplitOptionsT(3)])), true],
  ['SPLIT_V', (b) => b.output(...b.op(Op.SPLIT_V, [b.input([2, 7]), b.ints([2, 5]), b.ints([1], [])], [[2, 2], [2, 5]], [O.SplitVOptions, new s.SplitVOptionsT(2)])), true],
  ['TRANSPOSE', (b) => b.output(...b.op(Op.TRANSPOSE, [b.input([2, 3, 4]), b.ints([2, 0, 1])], [[4, 2, 3]], [O.TransposeOptions, new s.TransposeOptionsT()]))],
  ['CONCATENATION axis -1', (b) => b.output(...b.op(Op.CONCATENATION, [b.input([2, 3]), b.input([2, 4])], [[2, 7]], [O.ConcatenationOptions, new s.ConcatenationOptionsT(-1)])), true],
  // LiteRT ignores a fused activation on CONCATENATION (no converter writes one); so does the engine.
  ['CONCATENATION with a fused RELU', (b) => b.output(...b.op(Op.CONCATENATION, [b.input([2, 3]), b.input([2, 4])], [[2, 7]], [O.ConcatenationOptions, new s.ConcatenationOptionsT(1, s.ActivationFunctionType.RELU)]))],
  ['PACK / UNPACK', (b) => {
    const [p] = b.op(Op.PACK, [b.input([2, 3]), b.input([2, 3])], [[2, 2, 3]], [O.PackOptions, new s.PackOptionsT(2, 1)]);
    return b.output(...b.op(Op.UNPACK, [p], [[2, 2], [2, 2], [2, 2]], [O.UnpackOptions, new s.UnpackOptionsT(3, 2)]));
  }],
  ['TILE', (b) => b.output(...b.op(Op.TILE, [b.input([2, 3]), b.ints([1, 3])], [[2, 9]], [O.TileOptions, new s.TileOptionsT()])), true],
  ['EXPAND_DIMS + SQUEEZE', (b) => {
    const [e] = b.op(Op.EXPAND_DIMS, [b.input([2, 3]), b.ints([-1], [])], [[2, 3, 1]], [O.ExpandDimsOptions, new s.ExpandDimsOptionsT()]);
    return b.output(...b.op(Op.SQUEEZE, [e], [[2, 3]], [O.SqueezeOptions, new s.SqueezeOptionsT([2])]));
  }, true],
  ['GATHER axis 0', (b) => b.output(...b.op(Op.GATHER, [b.input([5, 4]), b.ints([0, 3, 4, 1], [2, 2])], [[2, 2, 4]], [O.GatherOptions, new s.GatherOptionsT(0, 0)]))],
  ['GATHER axis 1', (b) => b.output(...b.op(Op.GATHER, [b.input([2, 5, 3]), b.ints([4, 0, 2])], [[2, 3, 3]], [O.GatherOptions, new s.GatherOptionsT(1, 0)])), true],
  ['GATHER batch_dims 1', (b) => b.output(...b.op(Op.GATHER, [b.input([2, 5, 3]), b.ints([0, 4, 1, 1, 3, 2, 0, 4], [2, 4])], [[2, 4, 3]], [O.GatherOptions, new s.GatherOptionsT(1, 1)]))],
  ['GATHER_ND', (b) => b.output(...b.op(Op.GATHER_ND, [b.input([4, 5, 3]), b.ints([0, 1, 3, 4, 2, 2], [3, 2])], [[3, 3]], [O.GatherNdOptions, new s.GatherNdOptionsT()]))],
  ['MEAN keep_dims', (b) => b.output(...b.op(Op.MEAN, [b.input([2, 4, 5, 3]), b.ints([1, 2])], [[2, 1, 1, 3]], [O.ReducerOptions, new s.ReducerOptionsT(true)])), true],
  ['SUM axis -1', (b) => b.output(...b.op(Op.SUM, [b.input([2, 4, 5]), b.ints([-1])], [[2, 4]], [O.ReducerOptions, new s.ReducerOptionsT(false)])), true],
  ['REDUCE_MAX / REDUCE_MIN', (b) => {
    const x = b.input([2, 4, 5]);
    const [mx] = b.op(Op.REDUCE_MAX, [x, b.ints([1])], [[2, 5]], [O.ReducerOptions, new s.ReducerOptionsT(false)]);
    const [mn] = b.op(Op.REDUCE_MIN, [x, b.ints([2])], [[2, 4, 1]], [O.ReducerOptions, new s.ReducerOptionsT(true)]);
    return b.output(mx, mn);
  }, true],
  ['ARG_MAX', (b) => b.output(...b.op(Op.ARG_MAX, [b.input([2, 4, 5]), b.ints([2], [])], [[2, 4]], [O.ArgMaxOptions, new s.ArgMaxOptionsT(TensorType.INT32)], [TensorType.INT32])), true],
  ['L2_NORMALIZATION', (b) => b.output(...b.op(Op.L2_NORMALIZATION, [b.input([2, 8])], [[2, 8]], [O.L2NormOptions, new s.L2NormOptionsT()])), true],
  ['BATCH_MATMUL adj_y', (b) => b.output(...b.op(Op.BATCH_MATMUL, [b.input([2, 3, 4]), b.input([2, 5, 4])], [[2, 3, 5]], [O.BatchMatMulOptions, new s.BatchMatMulOptionsT(false, true)]))],
  ['BATCH_MATMUL adj_x, broadcast', (b) => b.output(...b.op(Op.BATCH_MATMUL, [b.input([2, 4, 3]), b.input([1, 4, 5])], [[2, 3, 5]], [O.BatchMatMulOptions, new s.BatchMatMulOptionsT(true, false)]))],
  ['RELU', unary(Op.RELU), true],
  ['RELU6', unary(Op.RELU6), true],
  ['RELU_N1_TO_1', (b) => {
    const [x] = b.op(Op.MUL, [b.input([2, 3, 4]), b.floats([3], [])], [[2, 3, 4]], [O.MulOptions, new s.MulOptionsT()]);
    return b.output(...b.op(Op.RELU_N1_TO_1, [x], [[2, 3, 4]]));
  }, true],
  ['LOGISTIC', unary(Op.LOGISTIC), true],
  ['TANH', unary(Op.TANH), true],
  ['HARD_SWISH on [-5, 5]', (b) => {
    const [x] = b.op(Op.MUL, [b.input([2, 3, 4]), b.floats([5], [])], [[2, 3, 4]], [O.MulOptions, new s.MulOptionsT()]);
    return b.output(...b.op(Op.HARD_SWISH, [x], [[2, 3, 4]]));
  }, true],
  ['PRELU', (b) => b.output(...b.op(Op.PRELU, [b.input([1, 4, 4, 3]), b.floats([0.1, -0.5, 2], [1, 1, 3])], [[1, 4, 4, 3]])), true],
  ['LEAKY_RELU', (b) => b.output(...b.op(Op.LEAKY_RELU, [b.input([2, 3, 4])], [[2, 3, 4]], [O.LeakyReluOptions, new s.LeakyReluOptionsT(0.1)])), true],
  ['ELU', unary(Op.ELU), true],
  ['SQRT', positive(Op.SQRT), true],
  ['RSQRT', positive(Op.RSQRT), true],
  ['LOG', positive(Op.LOG), true],
  ['EXP', unary(Op.EXP), true],
  ['SIN', unary(Op.SIN), true],
  ['COS', unary(Op.COS), true],
  ['ABS', unary(Op.ABS), true],
  ['NEG', unary(Op.NEG), true],
  ['SQUARE', unary(Op.SQUARE), true],
  ['FLOOR', unary(Op.FLOOR), true],
  ['LESS -> SELECT_V2', compareSelect(Op.LESS, true), true],
  ['GREATER -> SELECT', compareSelect(Op.GREATER, false), true],
  ['GREATER_EQUAL -> SELECT_V2', compareSelect(Op.GREATER_EQUAL, true), true],
  ['EQUAL / NOT_EQUAL -> SELECT_V2', (b) => {
    const x = b.input([2, 6]);
    const [r] = b.op(Op.ROUND, [x], [[2, 6]]);
    const [eq] = b.op(Op.EQUAL, [r, b.floats([0], [])], [[2, 6]], undefined, [TensorType.BOOL]);
    const [ne] = b.op(Op.NOT_EQUAL, [r, b.floats([1], [])], [[2, 6]], undefined, [TensorType.BOOL]);
    const [both] = b.op(Op.LOGICAL_AND, [eq, ne], [[2, 6]], undefined, [TensorType.BOOL]);
    return b.output(...b.op(Op.SELECT_V2, [both, x, b.floats([7], [])], [[2, 6]]));
  }, true],
  ['CAST float -> int32 -> float', (b) => {
    const [x] = b.op(Op.MUL, [b.input([2, 5]), b.floats([10], [])], [[2, 5]], [O.MulOptions, new s.MulOptionsT()]);
    const [i] = b.op(Op.CAST, [x], [[2, 5]], undefined, [TensorType.INT32]);
    const [f] = b.op(Op.CAST, [i], [[2, 5]]);
    return b.output(i, f);
  }, true],
  ['RESIZE_BILINEAR align_corners', (b) => b.output(...b.op(Op.RESIZE_BILINEAR, [b.input([1, 3, 4, 2]), b.ints([7, 5])], [[1, 7, 5, 2]], [O.ResizeBilinearOptions, new s.ResizeBilinearOptionsT(0, 0, true, false)])), true],
  ['RESIZE_BILINEAR half_pixel_centers', (b) => b.output(...b.op(Op.RESIZE_BILINEAR, [b.input([1, 3, 4, 2]), b.ints([8, 5])], [[1, 8, 5, 2]], [O.ResizeBilinearOptions, new s.ResizeBilinearOptionsT(0, 0, false, true)])), true],
  ['RESIZE_BILINEAR plain, downscale', (b) => b.output(...b.op(Op.RESIZE_BILINEAR, [b.input([1, 7, 6, 2]), b.ints([3, 4])], [[1, 3, 4, 2]], [O.ResizeBilinearOptions, new s.ResizeBilinearOptionsT()])), true],
  ['RESIZE_NEAREST_NEIGHBOR half_pixel_centers', (b) => b.output(...b.op(Op.RESIZE_NEAREST_NEIGHBOR, [b.input([1, 3, 4, 2]), b.ints([7, 9])], [[1, 7, 9, 2]], [O.ResizeNearestNeighborOptions, new s.ResizeNearestNeighborOptionsT(false, true)])), true],
  ['TRANSPOSE_CONV VALID stride 2 + bias', (b) => {
    const w = b.floats(Array.from({ length: 4 * 3 * 3 * 2 }, (_, i) => Math.sin(i)), [4, 3, 3, 2]);
    const bias = b.floats([0.1, -0.2, 0.3, 0.4]);
    return b.output(...b.op(Op.TRANSPOSE_CONV, [b.ints([1, 9, 11, 4]), w, b.input([1, 4, 5, 2]), bias], [[1, 9, 11, 4]], [O.TransposeConvOptions, new s.TransposeConvOptionsT(s.Padding.VALID, 2, 2)]));
  }, true],
  ['TRANSPOSE_CONV SAME stride 2', (b) => {
    const w = b.floats(Array.from({ length: 3 * 3 * 3 * 2 }, (_, i) => Math.cos(i)), [3, 3, 3, 2]);
    return b.output(...b.op(Op.TRANSPOSE_CONV, [b.ints([1, 8, 10, 3]), w, b.input([1, 4, 5, 2])], [[1, 8, 10, 3]], [O.TransposeConvOptions, new s.TransposeConvOptionsT(s.Padding.SAME, 2, 2)]));
  }, true],
  ['DEPTH_TO_SPACE / SPACE_TO_DEPTH', (b) => {
    const [d] = b.op(Op.DEPTH_TO_SPACE, [b.input([1, 2, 3, 8])], [[1, 4, 6, 2]], [O.DepthToSpaceOptions, new s.DepthToSpaceOptionsT(2)]);
    const [x] = b.op(Op.MUL, [d, b.floats([2], [])], [[1, 4, 6, 2]], [O.MulOptions, new s.MulOptionsT()]);
    return b.output(...b.op(Op.SPACE_TO_DEPTH, [x], [[1, 2, 3, 8]], [O.SpaceToDepthOptions, new s.SpaceToDepthOptionsT(2)]));
  }, true],
  ['LOG_SOFTMAX', unary(Op.LOG_SOFTMAX), true],
  ['FLOOR_DIV / FLOOR_MOD', (b) => {
    const x = b.input([2, 5]);
    const k = b.floats([0.3], []);
    const [d] = b.op(Op.FLOOR_DIV, [x, k], [[2, 5]], [O.FloorDivOptions, new s.FloorDivOptionsT()]);
    const [m] = b.op(Op.FLOOR_MOD, [x, k], [[2, 5]], [O.FloorModOptions, new s.FloorModOptionsT()]);
    return b.output(d, m);
  }, true],
];

describe('each kernel against LiteRT on one-op models', () => {
  beforeAll(async () => {
    await initNodeEngine();
    await initRuntime();
  });

  for (const [name, build, batchable] of CASES) {
    it(name, async () => {
      const builder = new Builder();
      const bytes = build(builder);
      const graph = readModel(bytes);
      const model = await loadModel(bytes);
      const executor = new GraphExecutor(graph);
      try {
        const inputs = [1, 2, 3].map((seed) => randomInputs(model, seed));
        const singles: { shape: number[]; values: Float32Array }[][] = [];
        for (const input of inputs) {
          const reference = runtimeReals(model, await model.run(input));
          const got = await engineOutputs(executor, graph, model, [input]);
          reference.forEach((ref, o) => {
            expect(got[o].shape, `output ${o} shape`).toEqual(model.outputs[o].shape);
            const rel = maxRelativeError(ref, got[o].values);
            expect(rel, `output ${o}`).toBeLessThanOrEqual(model.outputs[o].dtype === 'float32' ? 1e-5 : 0);
          });
          singles.push(got);
        }
        if (batchable) {
          const batch = await engineOutputs(executor, graph, model, inputs);
          batch.forEach((out, o) => {
            const per = out.values.length / inputs.length;
            expect(out.shape[0], `batch output ${o}`).toBe(inputs.length * singles[0][o].shape[0]);
            for (let r = 0; r < inputs.length; r++) expect(maxRelativeError(singles[r][o].values, out.values.subarray(r * per, (r + 1) * per))).toBeLessThanOrEqual(1e-6);
          });
        }
      } finally {
        executor.dispose();
        model.delete();
      }
    });
  }

  it('kernels are differentiable where tfjs is (gradient flows to the input)', () => {
    const names = ['PAD', 'SLICE size -1', 'STRIDED_SLICE shrink axis, negative indices', 'RESIZE_BILINEAR half_pixel_centers', 'TRANSPOSE_CONV VALID stride 2 + bias', 'MEAN keep_dims', 'HARD_SWISH on [-5, 5]', 'PRELU', 'L2_NORMALIZATION', 'BATCH_MATMUL adj_y', 'GATHER axis 1', 'CONCATENATION axis -1', 'SPLIT', 'GATHER axis 0', 'GATHER batch_dims 1', 'LOGISTIC', 'MIRROR_PAD reflect'];
    for (const name of names) {
      const graph = readModel(CASES.find((c) => c[0] === name)![1](new Builder()));
      const executor = new GraphExecutor(graph);
      const sg = graph.subgraphs[0];
      const xs = sg.inputs.map((t) => tf.randomUniform(sg.tensors[t].shape, -1, 1, 'float32', 3));
      const grads = tf.grads((...args: tf.Tensor[]) => tf.addN(executor.run(args).outputs.map((o) => tf.sum(tf.square(o)))))(xs);
      grads.forEach((g, i) => {
        expect(g.shape, name).toEqual(xs[i].shape);
        expect(tf.sum(tf.abs(g)).dataSync()[0], name).toBeGreaterThan(0);
      });
      tf.dispose([...xs, ...grads]);
      executor.dispose();
    }
  });
});
