/**
 * The engine's float outputs match LiteRT's on every shared float model it supports: every output,
 * two seeded inputs, max |engine - LiteRT| / max |LiteRT| <= 1e-4. A batch of 4 different inputs gives
 * each row's batch-1 result. Models the engine cannot run are listed with the op it lacks, and the
 * executor must name that op.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '../runtime/load';
import { randomInputs } from '../runtime/random-inputs';
import { initRuntime } from '../runtime/start';
import { LITERT_CANNOT_RUN, readSharedModel, sharedModelNames } from '../test-support/shared';
import { readModel } from '../tflite/read';
import { WorkbenchError } from '../errors';
import { initNodeEngine } from './backend-node';
import { loadTapped } from '../runtime/taps';
import { engineFeeds, engineOutputs, maxRelativeError, realValues, runtimeReals } from './engine-test-support';
import { GraphExecutor, unsupportedOps } from './executor';

/** Models the engine has no kernel for, with the ops it lacks (the error must name them). */
const UNSUPPORTED: Record<string, string[]> = {
  'mnist_lstm_float.tflite': ['UNIDIRECTIONAL_SEQUENCE_LSTM'],
  'mnist_lstm_int8.tflite': ['UNIDIRECTIONAL_SEQUENCE_LSTM'],
  'recommendation_rnn_float.tflite': ['TOPK_V2', 'UNIDIRECTIONAL_SEQUENCE_LSTM'],
  'ssd_mobilenet_v1_coco_quant_uint8.tflite': ['TFLite_Detection_PostProcess'],
};

/** Quantized models (integer activations): simulate.test.ts measures those. */
const QUANTIZED = /int8|uint8|hybrid|a8w8/;
const weightOnly = /weight_only/;

const floatModels = sharedModelNames().filter((n) => !UNSUPPORTED[n] && (!QUANTIZED.test(n) || weightOnly.test(n)));
/** Float models the engine runs but LiteRT.js cannot, so there is no reference to compare with here. */
const noReference = floatModels.filter((n) => LITERT_CANNOT_RUN[n]);

/**
 * End-to-end tolerances above 1e-4, with the reason. The pose_landmark models chain 300 (lite) and
 * 689 (heavy) ops through a residual decoder: each op alone agrees with LiteRT to 1e-5 / 3e-5 (checked
 * below, op by op on LiteRT's own inputs), and float32 rounding accumulates, on lite to 2.8e-4 on the
 * segmentation logits and 1.3e-3 on the pose flag (a sigmoid at 1e-8, i.e. a logit of -18 off by
 * 1e-3), on heavy to 1.3e-4 on the pose flag. `npm run bench:float-spread` shows tfjs' own CPU and
 * WASM backends drifting apart as much.
 */
const TOLERANCE: Record<string, number> = { 'pose_landmark_lite_fp16.tflite': 2e-3, 'pose_landmark_heavy_fp16.tflite': 2e-3 };
/** Per-op tolerance in isolation; heavy's worst op measured here is a convolution at 2.0e-5. */
const ISOLATED: Record<string, number> = { 'pose_landmark_lite_fp16.tflite': 1e-5, 'pose_landmark_heavy_fp16.tflite': 3e-5 };

/**
 * Models whose dimension 0 is not a batch of independent samples, so the bare executor cannot batch
 * them; BatchedForward gives audio_event a batch axis (batched-forward.test.ts) and refuses the others.
 */
const NOT_BATCHABLE = new Set([
  'audio_event_527_float.tflite', // input is one 1-D waveform
  'ops/branching_conv_fc.tflite', // flattens its whole [3, 4, 4, 1] input into one [48] output
  'ops/toy_model_with_kv_cache_multi_signature.tflite', // token positions and a KV cache
]);

describe('engine vs LiteRT on float models', () => {
  beforeAll(async () => {
    await initNodeEngine();
    await initRuntime();
  });

  it('lists exactly the models it cannot run, naming the missing op', () => {
    for (const name of sharedModelNames()) {
      const graph = readModel(readSharedModel(name));
      expect(unsupportedOps(graph), name).toEqual(UNSUPPORTED[name] ?? []);
      if (UNSUPPORTED[name]) {
        let error: unknown;
        try {
          new GraphExecutor(graph);
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(WorkbenchError);
        expect((error as WorkbenchError).code).toBe('unsupported');
        for (const op of UNSUPPORTED[name]) expect((error as Error).message).toContain(op);
      }
    }
  });

  it('a model with UNIDIRECTIONAL_SEQUENCE_LSTM is refused with a WorkbenchError naming the op', () => {
    const graph = readModel(readSharedModel('mnist_lstm_float.tflite'));
    expect(() => new GraphExecutor(graph)).toThrow(WorkbenchError);
    expect(() => new GraphExecutor(graph)).toThrow(/no kernel for UNIDIRECTIONAL_SEQUENCE_LSTM/);
  });

  for (const name of noReference) {
    it(`${name}: LiteRT.js refuses it with the reason, so the engine has no reference here`, async () => {
      await expect(loadModel(readSharedModel(name))).rejects.toThrow(LITERT_CANNOT_RUN[name]);
      expect(() => new GraphExecutor(readModel(readSharedModel(name))).dispose()).not.toThrow();
    });
  }

  for (const name of floatModels.filter((n) => !LITERT_CANNOT_RUN[n])) {
    it(name, async () => {
      const bytes = readSharedModel(name);
      const graph = readModel(bytes);
      const probe = await loadModel(bytes);
      const signatures = probe.signatures;
      probe.delete();
      const report: string[] = [];
      for (const signature of signatures) {
        const model = await loadModel(bytes, { signature });
        const def = graph.signatureDefs.find((s) => s.signatureKey === model.signature);
        const executor = new GraphExecutor(graph, { subgraph: def?.subgraphIndex ?? 0 });
        try {
          const seeds = [1, 2, 3, 4];
          const inputs = seeds.map((seed) => randomInputs(model, seed));
          const singles: { shape: number[]; values: Float32Array }[][] = [];
          for (let s = 0; s < seeds.length; s++) {
            const got = await engineOutputs(executor, graph, model, [inputs[s]]);
            singles.push(got);
            if (s >= 2) continue; // two seeds against LiteRT; all four feed the batch check
            const reference = runtimeReals(model, await model.run(inputs[s]));
            reference.forEach((ref, o) => {
              expect(got[o].values.length, `${signature} output ${o} size`).toBe(ref.length);
              const rel = maxRelativeError(ref, got[o].values);
              report.push(`${signature}[${o}] seed ${seeds[s]}: ${rel.toExponential(1)}`);
              expect(rel, `${signature} output ${o} seed ${seeds[s]}`).toBeLessThanOrEqual(TOLERANCE[name] ?? 1e-4);
            });
          }
          if (!NOT_BATCHABLE.has(name)) {
            const batch = await engineOutputs(executor, graph, model, inputs);
            batch.forEach((out, o) => {
              const rows = seeds.length;
              expect(out.shape[0], `batch output ${o}`).toBe(rows * (singles[0][o].shape[0] ?? 1));
              const per = out.values.length / rows;
              let worst = 0;
              for (let r = 0; r < rows; r++) worst = Math.max(worst, maxRelativeError(singles[r][o].values, out.values.subarray(r * per, (r + 1) * per)));
              report.push(`${signature}[${o}] batch 4: ${worst.toExponential(1)}`);
              expect(worst, `${signature} batch output ${o}`).toBeLessThanOrEqual(1e-5);
            });
          }
        } finally {
          executor.dispose();
          model.delete();
        }
      }
      console.log(`${name}: max rel error ${report.join(', ')}`);
      expect(tf.memory().numTensors).toBeLessThan(10_000);
    });
  }

  for (const [name, tolerance] of Object.entries(ISOLATED)) {
    it(`${name}: every op alone, fed LiteRT's own inputs, agrees to ${tolerance}`, async () => {
      const graph = readModel(readSharedModel(name));
      const runner = await loadTapped(graph);
      const executor = new GraphExecutor(graph);
      try {
        const inputs = randomInputs(runner, 1);
        const run = await runner.run(inputs);
        const sg = graph.subgraphs[0];
        const reference = new Map(runner.taps.map((tap, k) => [tap.tensorIndex, tf.tensor(realValues(run.values[k], null), sg.tensors[tap.tensorIndex].shape)]));
        const computed = new Map<number, tf.Tensor>();
        const feeds = engineFeeds(graph, runner, [inputs]);
        executor.run(feeds, {
          transform: (t, value) => {
            computed.set(t, value);
            return reference.get(t) ?? value;
          },
        });
        let worst = 0;
        let worstTensor = -1;
        for (const [t, ref] of reference) {
          const got = computed.get(t);
          if (!got) continue;
          const rel = maxRelativeError(ref.dataSync(), got.dataSync());
          if (rel > worst) [worst, worstTensor] = [rel, t];
        }
        console.log(`${name}: ${reference.size} ops in isolation, worst ${worst.toExponential(1)} at "${sg.tensors[worstTensor]?.name}"`);
        expect(worst).toBeLessThanOrEqual(tolerance);
        tf.dispose([...reference.values(), ...computed.values(), ...feeds]);
      } finally {
        executor.dispose();
        runner.delete();
      }
    });
  }
});
