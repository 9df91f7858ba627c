/**
 * The graph view's pure parts on real shared models: the drawable graph (one node per op, one edge
 * per activation tensor and reader, checked against the raw ModelGraph), the dagre layout (every node
 * placed, no overlap, edges run from their tensor's producer down to its reader), chain collapsing,
 * per-op facts against what pruning and clustering promised, and op matching on variants our own
 * quantizer wrote (float16 DEQUANTIZEs folded, QUANTIZE / DEQUANTIZE inserted at float I/O).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ActivationSummary } from '../../optimize/calibrate/activation-summary';
import { optimizeModel, SUMMARY_SAMPLES, summarySampleCount } from '../../optimize/pipeline';
import { defaultRecipe } from '../../optimize/recipe';
import { pruneModel } from '../../optimize/prune';
import { clusterModel } from '../../optimize/cluster';
import { initRuntime } from '../../runtime/start';
import { readSharedModel, seededRandom } from '../../test-support/shared';
import { opName } from '../../tflite/ops';
import { isConstant, producers } from '../../tflite/queries';
import { readModel } from '../../tflite/read';
import { TensorType } from '../../tflite/schema/generated/tflite_generated';
import { bitsTweak, keepFloatTweak } from './bits-tweak';
import { chainId, collapseChains, findChains } from './chains';
import { buildGraphViews, buildSubgraphView, OP_SIZE, type SubgraphView } from './graph-view';
import { layoutView } from './layout';
import { histogram, maxDistinctPerChannel, opDetails, opFacts } from './op-facts';
import { baseTensorName, matchOps } from './op-match';
import { opActivations } from './op-activations';

const LITE = readSharedModel('pose_landmark_lite_fp16.tflite');
const liteGraph = readModel(LITE);

describe('buildSubgraphView', () => {
  it('has one node per op carrying its index, and an edge per (activation tensor, reader) from its producer', () => {
    const sub = liteGraph.subgraphs[0];
    const view = buildSubgraphView(liteGraph, 0);
    const ops = view.nodes.filter((n) => n.kind === 'op');
    expect(ops.length).toBe(305);
    expect(ops.map((n) => n.opIndex)).toEqual(sub.operators.map((_, o) => o));
    const producer = producers(sub);
    let expected = 0;
    sub.operators.forEach((op, o) => {
      for (const t of new Set(op.inputs)) {
        if (t < 0 || isConstant(liteGraph, sub.tensors[t])) continue;
        expected++;
        const edge = view.edges.find((e) => e.to === `op:${o}` && e.tensor === t);
        expect(edge?.from, `${sub.tensors[t].name} into op ${o}`).toBe(producer[t] >= 0 ? `op:${producer[t]}` : `in:${t}`);
      }
    });
    expect(view.edges.length).toBe(expected + sub.outputs.length);
    expect(view.nodes.filter((n) => n.kind === 'input').map((n) => n.tensor)).toEqual(sub.inputs);
    expect(view.nodes.filter((n) => n.kind === 'output').map((n) => n.tensor)).toEqual(sub.outputs);
  });

  it('builds every subgraph of a model with several', () => {
    const graph = readModel(readSharedModel('ops/two_signatures.tflite'));
    const views = buildGraphViews(graph);
    expect(views.length).toBe(graph.subgraphs.length);
    views.forEach((v, s) => expect(v.nodes.filter((n) => n.kind === 'op').length).toBe(graph.subgraphs[s].operators.length));
  });
});

describe('layoutView (dagre)', () => {
  it('places every node of pose_landmark_lite without overlap, edges running from producer down to reader', () => {
    const view = buildSubgraphView(liteGraph, 0);
    const layout = layoutView(view);
    expect(layout.nodes.map((n) => n.id)).toEqual(view.nodes.map((n) => n.id));
    const box = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const n of layout.nodes) {
      expect(Number.isFinite(n.x) && Number.isFinite(n.y)).toBe(true);
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width).toBeLessThanOrEqual(layout.width + 1);
      expect(n.y + n.height).toBeLessThanOrEqual(layout.height + 1);
    }
    // No two nodes overlap (sorted sweep by x so the check stays cheap).
    const sorted = [...layout.nodes].sort((a, b) => a.x - b.x);
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length && sorted[j].x < sorted[i].x + sorted[i].width; j++) {
        const [a, b] = [sorted[i], sorted[j]];
        expect(a.y + a.height <= b.y || b.y + b.height <= a.y, `${a.id} overlaps ${b.id}`).toBe(true);
      }
    }
    expect(layout.edges.map((e) => `${e.from}>${e.to}>${e.tensor}`)).toEqual(view.edges.map((e) => `${e.from}>${e.to}>${e.tensor}`));
    const near = (x: number, y: number, n: { x: number; y: number; width: number; height: number }) => x >= n.x - 1 && x <= n.x + n.width + 1 && y >= n.y - 1 && y <= n.y + n.height + 1;
    for (const e of layout.edges) {
      const [from, to] = [box.get(e.from)!, box.get(e.to)!];
      expect(to.y, `${e.id} goes down`).toBeGreaterThan(from.y);
      const p = e.points;
      expect(p.length).toBeGreaterThanOrEqual(4);
      expect(near(p[0], p[1], from), `${e.id} starts at its producer`).toBe(true);
      expect(near(p[p.length - 2], p[p.length - 1], to), `${e.id} ends at its reader`).toBe(true);
    }
  });
});

function tinyView(): SubgraphView {
  // in -> 0 -> 1 -> 2 -> 3 -> 4 -> out, and 4 also reads 0 (a residual): the chain is 1..3 plus 4? no: 4 reads two.
  const node = (o: number) => ({ id: `op:${o}`, kind: 'op' as const, opIndex: o, label: `OP${o}`, detail: '', ...OP_SIZE });
  return {
    subgraph: 0,
    name: 'tiny',
    opCount: 7,
    tensorNames: [],
    nodes: [{ id: 'in:0', kind: 'input', tensor: 0, label: 'x', detail: '', ...OP_SIZE }, ...[0, 1, 2, 3, 4, 5, 6].map(node), { id: 'out:9', kind: 'output', tensor: 9, label: 'y', detail: '', ...OP_SIZE }],
    edges: [
      { id: 'a', from: 'in:0', to: 'op:0', tensor: 0 },
      { id: 'b', from: 'op:0', to: 'op:1', tensor: 1 },
      { id: 'c', from: 'op:1', to: 'op:2', tensor: 2 },
      { id: 'd', from: 'op:2', to: 'op:3', tensor: 3 },
      { id: 'e', from: 'op:3', to: 'op:4', tensor: 4 },
      { id: 'f', from: 'op:4', to: 'op:5', tensor: 5 },
      { id: 'g', from: 'op:4', to: 'op:6', tensor: 5 },
      { id: 'h', from: 'op:5', to: 'op:6', tensor: 6 },
      { id: 'i', from: 'op:6', to: 'out:9', tensor: 9 },
    ],
  };
}

describe('chains', () => {
  it('finds maximal single-in single-out runs and folds them into one node, rewiring edges', () => {
    const view = tinyView();
    // 0..4: each feeds only the next and the next reads only it; 4 feeds two ops, 6 reads two.
    expect(findChains(view)).toEqual([[0, 1, 2, 3, 4]]);
    const folded = collapseChains(view);
    expect(folded.nodes.map((n) => n.id)).toEqual(['in:0', 'chain:0-4', 'op:5', 'op:6', 'out:9']);
    expect(folded.nodes[1].ops).toEqual([0, 1, 2, 3, 4]);
    expect(folded.edges.map((e) => `${e.from}>${e.to}`)).toEqual(['in:0>chain:0-4', 'chain:0-4>op:5', 'chain:0-4>op:6', 'op:5>op:6', 'op:6>out:9']);
    expect(collapseChains(view, new Set([chainId([0, 1, 2, 3, 4])]))).toBe(view);
    expect(findChains(view, 6)).toEqual([]);
  });

  it('on a real model, every op is drawn exactly once, alone or in a chain, and no edge loops', () => {
    const view = buildSubgraphView(liteGraph, 0);
    const folded = collapseChains(view);
    const drawn = folded.nodes.flatMap((n) => (n.kind === 'op' ? [n.opIndex!] : n.kind === 'chain' ? n.ops! : []));
    expect(drawn.sort((a, b) => a - b)).toEqual(liteGraph.subgraphs[0].operators.map((_, o) => o));
    expect(folded.nodes.length).toBeLessThan(view.nodes.length);
    expect(folded.edges.every((e) => e.from !== e.to)).toBe(true);
    const layout = layoutView(folded);
    expect(layout.nodes.length).toBe(folded.nodes.length);
  });
});

describe('opFacts and opDetails', () => {
  const mobilenet = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));

  it('reports the sparsity pruning left and the values clustering left, per kernel', () => {
    const pruning = pruneModel(mobilenet, { sparsity: 0.5 });
    const facts = opFacts(pruning.graph, 0, true);
    const sub = pruning.graph.subgraphs[0];
    const prunedNames = new Set(pruning.tensors.map((t) => t.name));
    const pruned = facts.filter((f) => sub.operators[f.opIndex].inputs.some((t) => t >= 0 && prunedNames.has(sub.tensors[t].name)));
    expect(pruned.length).toBe(pruning.tensors.length);
    for (const f of pruned) expect(f.sparsity!).toBeCloseTo(pruning.tensors.find((t) => sub.operators[f.opIndex].inputs.some((i) => sub.tensors[i]?.name === t.name))!.sparsity, 6);
    const before = opFacts(mobilenet, 0, true).filter((f) => f.sparsity !== null);
    expect(before.every((f) => f.sparsity! < 0.05)).toBe(true);
    const clustered = clusterModel(mobilenet, { clusters: 8, perChannel: true }).graph;
    const after = opFacts(clustered, 0, true).filter((f) => f.op === 'CONV_2D');
    for (const f of after) expect(f.distinctPerChannel!).toBeLessThanOrEqual(8);
    expect(Math.max(...opFacts(mobilenet, 0, true).filter((f) => f.op === 'CONV_2D').map((f) => f.distinctPerChannel!))).toBeGreaterThan(8);
  });

  it('counts distinct values per channel like a brute force does', () => {
    const random = seededRandom(3);
    const shape = [3, 4, 5];
    const values = Float32Array.from({ length: 60 }, () => Math.round(random() * 6));
    for (const axis of [0, 1, 2]) {
      let most = 0;
      for (let c = 0; c < shape[axis]; c++) {
        const seen = new Set<number>();
        for (let i = 0; i < 60; i++) {
          const idx = [Math.floor(i / 20), Math.floor(i / 5) % 4, i % 5];
          if (idx[axis] === c) seen.add(values[i]);
        }
        most = Math.max(most, seen.size);
      }
      expect(maxDistinctPerChannel(values, shape, axis), `axis ${axis}`).toBe(most);
    }
  });

  it('histograms count every value once, in the right bin', () => {
    const h = histogram([0, 0, 1, 2, 3, 4], 4);
    expect(h).toEqual({ min: 0, max: 4, counts: [2, 1, 1, 2], total: 6, zeros: 2 });
  });

  it('weight bytes are the op constant inputs as stored; details give shapes, dtypes and kernel values', () => {
    const facts = opFacts(liteGraph, 0, false);
    const sub = liteGraph.subgraphs[0];
    const total = facts.reduce((n, f) => n + f.weightBytes, 0);
    const direct = sub.operators.reduce((n, op) => n + op.inputs.filter((t) => t >= 0 && isConstant(liteGraph, sub.tensors[t])).reduce((m, t) => m + liteGraph.buffers[sub.tensors[t].buffer].data.length, 0), 0);
    expect(total).toBe(direct);
    const conv = facts.find((f) => f.op === 'CONV_2D')!;
    const details = opDetails(liteGraph, 0, conv.opIndex);
    expect(details.outputs[0].shape).toEqual(sub.tensors[sub.operators[conv.opIndex].outputs[0]].shape);
    // MediaPipe stores the kernel as FLOAT16 behind a DEQUANTIZE: the histogram reads it through.
    expect(details.weights).not.toBeNull();
    const kernel = sub.tensors[details.weights!.tensor];
    expect(kernel.type).toBe(TensorType.FLOAT16);
    expect(details.weights!.histogram.total).toBe(kernel.shape.reduce((a, d) => a * d, 1));
  });
});

describe('matchOps', () => {
  beforeAll(async () => {
    await initRuntime();
  });

  it('strips quantizer suffixes', () => {
    expect(baseTensorName('conv1_int8')).toBe('conv1');
    expect(baseTensorName('x_int8_float')).toBe('x');
    expect(baseTensorName('_int8')).toBe('_int8');
  });

  it('dynamic range on pose_landmark_lite: float16 DEQUANTIZEs folded, every other op kept, kernels FLOAT16 -> INT8', async () => {
    const result = await optimizeModel({ model: LITE, recipe: defaultRecipe('dynamic'), skipCheck: true, allowFloatFallback: true });
    const variant = readModel(result.bytes);
    const diff = matchOps(liteGraph, variant);
    const sub = liteGraph.subgraphs[0];
    const weightDequantize = sub.operators.filter((op) => opName(liteGraph, op) === 'DEQUANTIZE' && isConstant(liteGraph, sub.tensors[op.inputs[0]])).length;
    expect(weightDequantize).toBeGreaterThan(50);
    const variantOps = variant.subgraphs[0].operators.length;
    // Each DEQUANTIZE of a quantized kernel is gone from the variant; those that stayed are matched.
    expect(diff.counts.folded).toBe(sub.operators.length - variantOps + diff.counts.inserted);
    for (const m of diff.float) {
      if (m.fate === 'folded') expect(m.op).toBe('DEQUANTIZE');
      else if (m.fate === 'kept') expect(diff.variant[m.variantOp!].op).toBe(m.op);
      else throw new Error(`op ${m.opIndex} ${m.op} removed`);
    }
    const convs = diff.variant.filter((m) => m.op === 'CONV_2D');
    expect(convs.some((m) => m.change === 'dtype' && /weights FLOAT16\/FLOAT16→INT8\/FLOAT32/.test(m.dtypeChange!))).toBe(true);
  }, 120_000);

  it('full int8 with float I/O on MNIST: one QUANTIZE and one DEQUANTIZE inserted, every float op kept and now INT8', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const graph = readModel(model);
    const sub = graph.subgraphs[0];
    const random = seededRandom(7);
    const calibration = Array.from({ length: 4 }, () => sub.inputs.map((t) => Float32Array.from({ length: sub.tensors[t].shape.reduce((n, d) => n * Math.max(d, 1), 1) }, () => random())));
    const result = await optimizeModel({ model, recipe: defaultRecipe('int8'), calibration, calibrationCount: 4, skipCheck: true, activationSummaries: true });
    const variant = readModel(result.bytes);
    const diff = matchOps(graph, variant);
    const inserted = diff.variant.filter((m) => m.change === 'inserted').map((m) => m.op).sort();
    expect(inserted).toEqual(['DEQUANTIZE', 'QUANTIZE']);
    expect(diff.float.every((m) => m.fate === 'kept')).toBe(true);
    for (const m of diff.variant.filter((x) => x.change !== 'inserted')) {
      expect(m.op).toBe(opName(graph, sub.operators[m.floatOp!]));
      expect(m.change).toBe('dtype');
      expect(m.dtypeChange).toMatch(/out FLOAT32→INT8/);
    }

    // The calibrated activations are keyed by the float model's tensors, and every op's details find
    // those of its activation inputs and outputs, on the float model and on the variant alike.
    const activations = result.activations!;
    expect(activations.length).toBeGreaterThan(sub.operators.length);
    for (const a of activations) expect(sub.tensors[Number(a.key.split(':')[1])].name).toBe(a.name);
    sub.operators.forEach((op, o) => {
      const found = opActivations(opDetails(graph, 0, o), activations);
      const activationTensors = [...op.inputs, ...op.outputs].filter((t) => t >= 0 && !isConstant(graph, sub.tensors[t]));
      expect(found.map((a) => a.tensor).sort(), `op ${o}`).toEqual(activationTensors.map((t) => sub.tensors[t].name).sort());
      const inVariant = opActivations(opDetails(variant, 0, diff.float[o].variantOp!), activations);
      expect(inVariant.map((a) => a.summary.key)).toEqual(found.map((a) => a.summary.key));
    });
    // SOFTMAX: a fixed int8 output grid, scale 1/256 and zero point -128, i.e. [0, 255/256].
    const softmax = sub.operators.findIndex((op) => opName(graph, op) === 'SOFTMAX');
    const out = opActivations(opDetails(graph, 0, softmax), activations).find((a) => a.role === 'out')!.summary;
    expect(out.rangeSource).toBe('quantized');
    expect(out.range[0]).toBeCloseTo(0, 12);
    expect(out.range[1]).toBeCloseTo(255 / 256, 12);
    expect(out.clippedBelow).toBe(0);
    expect(out.total).toBe(4 * 10);
    expect([out.samples, out.samplesCalibrated]).toEqual([4, 4]);
  }, 120_000);

  it('min/max ranges bin only the first samples for the summary (32 on MNIST); percentile ranges all of them', async () => {
    const model = readSharedModel('mnist_conv_fc_float.tflite');
    const graph = readModel(model);
    const sub = graph.subgraphs[0];
    expect(summarySampleCount(graph)).toBe(SUMMARY_SAMPLES);
    // Models with many activation values bin fewer (the values path costs about one pass over them).
    expect(summarySampleCount(liteGraph)).toBe(4);
    const random = seededRandom(9);
    const calibration = Array.from({ length: SUMMARY_SAMPLES + 8 }, () => sub.inputs.map((t) => Float32Array.from({ length: 784 }, () => random())));
    const softmaxOut = (activations: ActivationSummary[]) => activations.find((a) => a.key === `0:${sub.outputs[0]}`)!;
    const minmax = await optimizeModel({ model, recipe: defaultRecipe('int8'), calibration, skipCheck: true, activationSummaries: true });
    expect(softmaxOut(minmax.activations!)).toMatchObject({ samples: SUMMARY_SAMPLES, samplesCalibrated: SUMMARY_SAMPLES + 8, total: SUMMARY_SAMPLES * 10 });
    const percentile = await optimizeModel({ model, recipe: { ...defaultRecipe('int8'), calibration: { algorithm: 'percentile', percentile: 99.99, samples: 100 } }, calibration, skipCheck: true, activationSummaries: true });
    expect(softmaxOut(percentile.activations!)).toMatchObject({ samples: SUMMARY_SAMPLES + 8, samplesCalibrated: SUMMARY_SAMPLES + 8, total: (SUMMARY_SAMPLES + 8) * 10 });
    // Same model, same samples: the int8 file does not depend on whether the summary is kept.
    const plain = await optimizeModel({ model, recipe: defaultRecipe('int8'), calibration, skipCheck: true });
    expect(plain.activations).toBeUndefined();
    expect(Buffer.from(plain.bytes).equals(Buffer.from(minmax.bytes))).toBe(true);
  }, 120_000);

  it('matches ops in every subgraph: dynamic range on weight_sharing_fcs quantizes the FC of subgraph 1 too', async () => {
    const model = readSharedModel('ops/weight_sharing_fcs.tflite');
    const graph = readModel(model);
    expect(graph.subgraphs.length).toBe(2);
    const result = await optimizeModel({ model, recipe: { ...defaultRecipe('dynamic'), minWeightElements: 0 }, skipCheck: true });
    const variant = readModel(result.bytes);
    for (const s of [0, 1]) {
      const diff = matchOps(graph, variant, s);
      expect(diff.subgraph).toBe(s);
      expect(diff.float.length).toBe(graph.subgraphs[s].operators.length);
      expect(diff.variant.length).toBe(variant.subgraphs[s].operators.length);
      const fc = diff.variant.filter((m) => m.op === 'FULLY_CONNECTED');
      expect(fc.length, `subgraph ${s}`).toBe(1);
      expect(fc[0].change).toBe('dtype');
      expect(fc[0].dtypeChange).toMatch(/FLOAT32→INT8/);
      expect(diff.float.every((m) => m.fate === 'kept')).toBe(true);
    }
  }, 120_000);
});

describe('bitsTweak', () => {
  it('moves int8 to 16x8 and back, int4 weights by op type, and says why when it cannot', () => {
    const int8 = defaultRecipe('int8');
    const more = bitsTweak(int8, 'CONV_2D', 'more');
    expect(more.ok && more.recipe.technique).toBe('int16x8');
    expect(bitsTweak(int8, 'CONV_2D', 'fewer').ok).toBe(false);
    const dynamic = defaultRecipe('dynamic');
    const fewer = bitsTweak(dynamic, 'FULLY_CONNECTED', 'fewer');
    expect(fewer.ok && fewer.recipe.opWeightBits).toEqual({ FULLY_CONNECTED: 4 });
    expect(bitsTweak(dynamic, 'FULLY_CONNECTED', 'more').ok).toBe(false);
    const back = bitsTweak({ ...dynamic, weightBits: 4 }, 'CONV_2D', 'more');
    expect(back.ok && back.recipe.opWeightBits).toEqual({ CONV_2D: 8 });
    expect(bitsTweak(dynamic, 'ADD', 'fewer').ok).toBe(false);
    const kept = keepFloatTweak(int8, 'conv/Relu;x.y');
    expect(kept.ok && kept.recipe.keepFloat).toEqual([{ tensorNamePattern: '^conv/Relu;x\\.y$' }]);
    expect(kept.ok && keepFloatTweak(kept.recipe, 'conv/Relu;x.y').ok).toBe(false);
  });
});
