import { describe, expect, it } from 'vitest';
import { WorkbenchError } from '../errors';
import { readSharedModel } from '../test-support/shared';
import { opName } from '../tflite/ops';
import { readModel } from '../tflite/read';
import { defaultRecipe, equalizeApplies, fromAeqRecipe, keepsFloat, opPrecisionOf, parseRecipe, recipeLabel, smallInt4Ops, toAeqRecipe, TECHNIQUES, weightBitsOfOp, type Recipe } from './recipe';

describe('recipes', () => {
  it('parses a full recipe and fills in defaults', () => {
    const recipe = parseRecipe({ technique: 'int8', io: 'uint8', calibration: { algorithm: 'mse' }, keepFloat: ['SOFTMAX', '.*logits.*'] });
    expect(recipe).toMatchObject({
      technique: 'int8',
      granularity: 'per-channel',
      io: 'uint8',
      calibration: { algorithm: 'mse', percentile: 99.99, samples: 100 },
      keepFloat: [{ opTypes: ['SOFTMAX'] }, { tensorNamePattern: '.*logits.*' }],
    });
    expect(recipeLabel(recipe)).toBe('int8-uint8io-mse-2float');
  });

  it('names what is wrong in a bad recipe', () => {
    const bad: [unknown, RegExp][] = [
      [{ technique: 'int4' }, /unknown technique "int4"/],
      [{ technique: 'int8', calibration: { algorithm: 'kl' } }, /unknown calibration algorithm "kl"/],
      [{ technique: 'int8', keepFloat: [{ opTypes: ['CONV_3X3'] }] }, /unknown op type "CONV_3X3"/],
      [{ technique: 'int8', keepFloat: ['(unclosed'] }, /not a valid regular expression/],
      [{ technique: 'dynamic', io: 'int8' }, /io int8 needs technique int8 or int16x8/],
      [{ technique: 'float16', integerOnly: true }, /integerOnly needs technique int8 or int16x8/],
      [{ technique: 'int8', colour: 'blue' }, /unknown field "colour"/],
      [[], /expected a JSON object/],
    ];
    for (const [json, message] of bad) {
      expect(() => parseRecipe(json)).toThrow(WorkbenchError);
      expect(() => parseRecipe(json)).toThrow(message);
    }
  });

  it('keeps ops in float by type or by output tensor name', () => {
    const graph = readModel(readSharedModel('mnist_conv_fc_float.tflite'));
    const ops = graph.subgraphs[0].operators;
    const byType = parseRecipe({ technique: 'int8', keepFloat: ['SOFTMAX'] });
    expect(ops.map((op) => keepsFloat(byType, graph, 0, op))).toEqual([false, false, false, false, false, true]);
    const byName = parseRecipe({ technique: 'int8', keepFloat: ['dense_1'] });
    expect(ops.filter((op) => keepsFloat(byName, graph, 0, op))).toHaveLength(1);
  });

  it('round-trips through AI Edge Quantizer recipes for the shared schemes', () => {
    for (const technique of TECHNIQUES) {
      const recipe = { ...defaultRecipe(technique), keepFloat: [{ opTypes: ['SOFTMAX'] }] };
      const { entries } = toAeqRecipe(recipe);
      const back = fromAeqRecipe(JSON.parse(JSON.stringify(entries)));
      expect(back.recipe.technique).toBe(technique);
      expect(back.recipe.granularity).toBe('per-channel');
      expect(back.recipe.keepFloat).toEqual([{ opTypes: ['SOFTMAX'] }]);
      expect(back.notMapped).toEqual([]);
    }
  });

  it("reads AEQ's own recipes and says what does not map", () => {
    const a8w8 = [
      {
        regex: '.*',
        operation: '*',
        algorithm_key: 'min_max_uniform_quantize',
        op_config: {
          activation_tensor_config: { num_bits: 8, symmetric: false, granularity: 'TENSORWISE', dtype: 'INT' },
          weight_tensor_config: { num_bits: 8, symmetric: true, granularity: 'CHANNELWISE', dtype: 'INT' },
          compute_precision: 'INTEGER',
          explicit_dequantize: false,
        },
      },
      { regex: '.*', operation: 'FULLY_CONNECTED', algorithm_key: 'min_max_uniform_quantize', op_config: { weight_tensor_config: { num_bits: 4, symmetric: true } } },
      { regex: '.*', operation: 'CONV_2D', algorithm_key: 'no_quantize' },
    ];
    const { recipe, notMapped } = fromAeqRecipe(a8w8);
    expect(recipe.technique).toBe('int8');
    expect(recipe.keepFloat).toEqual([{ opTypes: ['CONV_2D'] }]);
    expect(notMapped.join('\n')).toMatch(/FULLY_CONNECTED.*not supported/);
    const weightOnly = fromAeqRecipe([{ regex: '.*', operation: '*', algorithm_key: 'min_max_uniform_quantize', op_config: { weight_tensor_config: { num_bits: 8, symmetric: false, granularity: 'CHANNELWISE' }, compute_precision: 'FLOAT', explicit_dequantize: true } }]);
    expect(weightOnly.recipe.technique).toBe('weight-int8');
    expect(weightOnly.notMapped.join('\n')).toMatch(/asymmetric weights/);
    expect(() => fromAeqRecipe([{ regex: '.*', operation: '*', algorithm_key: 'hadamard_rotation' }])).toThrow(/not supported/);
    expect(() => fromAeqRecipe([{ regex: '.*', operation: '*', algorithm_key: 'min_max_uniform_quantize', op_config: { weight_tensor_config: { num_bits: 2 } } }])).toThrow(/only 8- and 4-bit weights/);
  });

  it('int4 weights: weightBits, blockSize and per-op bits are validated, labelled, and go to and from AEQ as num_bits', () => {
    const recipe = parseRecipe({ technique: 'dynamic', weightBits: 4, blockSize: 32, opWeightBits: { CONV_2D: 8 } });
    expect(recipeLabel(recipe)).toBe('dynamic-int4-b32-conv_2d8');
    expect(() => parseRecipe({ technique: 'float16', weightBits: 4 })).toThrow(/int4 weights need technique weight-int8, dynamic, int8, int16x8, not float16/);
    expect(() => parseRecipe({ technique: 'int8', weightBits: 4, blockSize: 32 })).toThrow(/blockSize needs technique weight-int8 or dynamic: int8 stores int4 weights per channel/);
    expect(() => parseRecipe({ technique: 'dynamic', blockSize: 32 })).toThrow(/blockSize needs weightBits 4/);
    expect(() => parseRecipe({ technique: 'dynamic', weightBits: 4, blockSize: 48 })).toThrow(/blockSize must be/);
    expect(() => parseRecipe({ technique: 'dynamic', weightBits: 6 })).toThrow(/weightBits must be 8 or 4/);
    expect(() => parseRecipe({ technique: 'dynamic', opWeightBits: { CONV2D: 4 } })).toThrow(/unknown op type/);
    const { entries, notMapped } = toAeqRecipe(recipe);
    expect(notMapped).toEqual([]);
    // AEQ's dynamic_wi4_afp32_blockwise: num_bits 4, granularity BLOCKWISE_32, integer compute.
    expect(entries[0].op_config).toMatchObject({ weight_tensor_config: { num_bits: 4, granularity: 'BLOCKWISE_32' }, compute_precision: 'INTEGER', explicit_dequantize: false });
    const byOp = Object.fromEntries(entries.slice(1).map((e) => [e.operation, e.op_config?.weight_tensor_config?.num_bits]));
    // Depthwise stays int8 unless named: AEQ is told so explicitly.
    expect(byOp).toEqual({ CONV_2D: 8, DEPTHWISE_CONV_2D: 8 });
    const back = fromAeqRecipe(JSON.parse(JSON.stringify(entries)));
    expect(back.notMapped).toEqual([]);
    expect(back.recipe).toMatchObject({ technique: 'dynamic', weightBits: 4, blockSize: 32, opWeightBits: { CONV_2D: 8, DEPTHWISE_CONV_2D: 8 } });
    // AEQ's own weight-only int4 recipe (default_af32w4float_recipe.json) and the older block_size field.
    const aeqW4 = fromAeqRecipe([{ regex: '.*', operation: '*', algorithm_key: 'min_max_uniform_quantize', op_config: { weight_tensor_config: { num_bits: 4, symmetric: false, granularity: 'CHANNELWISE', dtype: 'INT' }, compute_precision: 'FLOAT', explicit_dequantize: true, min_weight_elements: 0 } }]);
    expect(aeqW4.recipe).toMatchObject({ technique: 'weight-int8', weightBits: 4, blockSize: 0, granularity: 'per-channel' });
    const legacy = fromAeqRecipe([{ regex: '.*', operation: '*', algorithm_key: 'min_max_uniform_quantize', op_config: { weight_tensor_config: { num_bits: 4, symmetric: true, block_size: 128 }, compute_precision: 'INTEGER' } }]);
    expect(legacy.recipe).toMatchObject({ technique: 'dynamic', weightBits: 4, blockSize: 128 });
  });

  it('W4A8 / W4A16 and per-scope weight bits: validated, resolved op by op, to and from AEQ num_bits', () => {
    const recipe = parseRecipe({
      technique: 'int8',
      weightBits: 4,
      opWeightBits: { FULLY_CONNECTED: 8 },
      weightBitsByScope: [{ tensorNamePattern: 'Conv2d_1_', bits: 8 }, { opTypes: ['DEPTHWISE_CONV_2D'], bits: 4 }, { tensorNamePattern: 'Conv2d_1_depthwise', bits: 8 }],
      // Every op weightBits names int4, the small ones too (their rule has a test of its own below).
      smallInt4Layers: 'int4',
    });
    expect(recipeLabel(recipe)).toBe('int8-int4-fully_connected8-3bitscope-allint4');
    expect(parseRecipe(JSON.parse(JSON.stringify(recipe)))).toEqual(recipe);
    // Resolution against real op names of MobileNetV1: last matching scope, then op type, then depthwise 8, then weightBits.
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const bitsOf = (tensor: string) => {
      const op = graph.subgraphs[0].operators.find((o) => o.outputs.some((t) => graph.subgraphs[0].tensors[t].name.includes(tensor)))!;
      return [opName(graph, op), weightBitsOfOp(recipe, graph, 0, op)];
    };
    expect(bitsOf('Conv2d_0/')).toEqual(['CONV_2D', 4]); // weightBits
    expect(bitsOf('Conv2d_1_pointwise/')).toEqual(['CONV_2D', 8]); // scope 'Conv2d_1_'
    expect(bitsOf('Conv2d_1_depthwise/')).toEqual(['DEPTHWISE_CONV_2D', 8]); // the last matching scope
    expect(bitsOf('Conv2d_2_depthwise/')).toEqual(['DEPTHWISE_CONV_2D', 4]); // scope by op type names depthwise
    expect(bitsOf('Conv2d_2_pointwise/')).toEqual(['CONV_2D', 4]);
    // Without a scope naming them, depthwise convolutions stay 8.
    const depthwise = graph.subgraphs[0].operators.find((o) => opName(graph, o) === 'DEPTHWISE_CONV_2D')!;
    expect(weightBitsOfOp(parseRecipe({ technique: 'int16x8', weightBits: 4 }), graph, 0, depthwise)).toBe(8);
    expect(() => parseRecipe({ technique: 'dynamic', weightBits: 4, weightBitsByScope: [{ tensorNamePattern: 'x', bits: 8 }] })).toThrow(/weightBitsByScope needs technique int8 or int16x8/);
    expect(() => parseRecipe({ technique: 'int8', weightBitsByScope: [{ tensorNamePattern: '(', bits: 4 }] })).toThrow(/not a valid regular expression/);
    expect(() => parseRecipe({ technique: 'int8', weightBitsByScope: [{ tensorNamePattern: 'x', bits: 2 }] })).toThrow(/weightBitsByScope\[0\].bits must be 8 or 4/);
    expect(() => parseRecipe({ technique: 'int8', weightBitsByScope: [{ pattern: 'x', bits: 4 }] })).toThrow(/unknown field "pattern"/);
    expect(() => parseRecipe({ technique: 'int8', weightBitsByScope: [{ bits: 4 }] })).toThrow(/needs opTypes or tensorNamePattern/);

    // AEQ: the main entry carries num_bits 4 with 8-bit activations; then op types, depthwise, then scopes in order.
    const { entries, notMapped } = toAeqRecipe({ ...recipe, equalize: 'off', rounding: 'nearest' });
    expect(notMapped).toEqual([]);
    expect(entries[0].op_config).toMatchObject({ activation_tensor_config: { num_bits: 8 }, weight_tensor_config: { num_bits: 4, granularity: 'CHANNELWISE', symmetric: true }, compute_precision: 'INTEGER' });
    expect(entries.slice(1).map((e) => [e.regex, e.operation, e.op_config?.weight_tensor_config?.num_bits])).toEqual([
      ['.*', 'FULLY_CONNECTED', 8],
      ['.*', 'DEPTHWISE_CONV_2D', 8],
      ['Conv2d_1_', '*', 8],
      ['.*', 'DEPTHWISE_CONV_2D', 4],
      ['Conv2d_1_depthwise', '*', 8],
    ]);
    const back = fromAeqRecipe(JSON.parse(JSON.stringify(entries)));
    expect(back.notMapped).toEqual([]);
    // Op types before any scope become opWeightBits; after one, scopes, so the order AEQ applies holds.
    expect(back.recipe).toMatchObject({ technique: 'int8', weightBits: 4, opWeightBits: { FULLY_CONNECTED: 8, DEPTHWISE_CONV_2D: 8 }, smallInt4Layers: 'int4' });
    expect(back.recipe.weightBitsByScope).toEqual(recipe.weightBitsByScope);
    // AEQ's static W4A16 form: 16-bit symmetric activations, 4-bit channelwise weights.
    const w4a16 = fromAeqRecipe([
      { regex: '.*', operation: '*', algorithm_key: 'min_max_uniform_quantize', op_config: { activation_tensor_config: { num_bits: 16, symmetric: true }, weight_tensor_config: { num_bits: 4, symmetric: true, granularity: 'CHANNELWISE' }, compute_precision: 'INTEGER' } },
      { regex: 'a', operation: 'CONV_2D', algorithm_key: 'min_max_uniform_quantize', op_config: { activation_tensor_config: { num_bits: 16, symmetric: true }, weight_tensor_config: { num_bits: 8 }, compute_precision: 'INTEGER' } },
    ]);
    expect(w4a16.recipe).toMatchObject({ technique: 'int16x8', weightBits: 4 });
    expect(w4a16.notMapped.join('\n')).toMatch(/8-bit weights for CONV_2D \/ a .*not supported/);
  });

  it('W4A8 keeps the smallest int4 layers int8: at most 2% of those weights, smallest first; scopes and AEQ make them int4', () => {
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const { operators, tensors } = graph.subgraphs[0];
    const int8Ops = (recipe: Recipe) =>
      operators.filter((op) => opName(graph, op) !== 'DEPTHWISE_CONV_2D' && tensors[op.inputs[1]]?.buffer && weightBitsOfOp(recipe, graph, 0, op) === 8).map((op) => tensors[op.outputs[0]].name.split('/').slice(-2, -1)[0]);
    // MobileNetV1 0.25's 15 convolutions hold 472,696 weights: the first conv (216) and pointwise 1-5
    // (128, 512, 1,024, 2,048, 4,096) make 8,024, 1.70%; pointwise 6 (8,192) would make 3.43%.
    const w4a8 = parseRecipe({ technique: 'int8', weightBits: 4 });
    const smallest = ['Conv2d_1_pointwise', 'Conv2d_2_pointwise', 'Conv2d_3_pointwise', 'Conv2d_4_pointwise', 'Conv2d_5_pointwise'];
    expect(int8Ops(w4a8)).toEqual(['Conv2d_0', ...smallest]);
    expect([...smallInt4Ops(w4a8, graph, 0).values()]).toEqual([128, 216, 512, 1024, 2048, 4096]); // smallest first
    expect(int8Ops(parseRecipe({ technique: 'int16x8', weightBits: 4 }))).toHaveLength(6);
    // A scope that names an op int4 wins, and is left out of the share (pointwise 6 still does not fit).
    const named = parseRecipe({ technique: 'int8', weightBits: 4, weightBitsByScope: [{ tensorNamePattern: 'Conv2d_0/', bits: 4 }] });
    expect(int8Ops(named)).toEqual(smallest);
    // 'int4' turns the rule off; int8 weights have nothing to keep.
    const all = parseRecipe({ technique: 'int8', weightBits: 4, smallInt4Layers: 'int4' });
    expect(int8Ops(all)).toEqual([]);
    expect(recipeLabel(all)).toBe('int8-int4-allint4');
    expect(smallInt4Ops(parseRecipe({ technique: 'int8' }), graph, 0).size).toBe(0);
    expect(() => parseRecipe({ technique: 'int8', weightBits: 4, smallInt4Layers: 'int2' })).toThrow(/smallInt4Layers must be int8 or int4, got "int2"/);
    // AEQ has no such rule: export says so, and an imported int4 recipe makes every op int4, as AEQ would.
    expect(toAeqRecipe(w4a8).notMapped.join('\n')).toMatch(/the smallest int4 layers kept int8/);
    expect(fromAeqRecipe(toAeqRecipe(w4a8).entries).recipe.smallInt4Layers).toBe('int4');
  });

  it('activation bits per op: validated, resolved per op (keepFloat wins, last scope wins), labelled, and to and from AEQ as activation num_bits', () => {
    const recipe = parseRecipe({ technique: 'int8', keepFloat: ['Conv2d_0/'], activationBitsByScope: [{ opTypes: ['DEPTHWISE_CONV_2D'], bits: 16 }, { tensorNamePattern: 'Conv2d_1_depthwise', bits: 8 }, { tensorNamePattern: 'Conv2d_0/', bits: 16 }] });
    expect(recipeLabel(recipe)).toBe('int8-3actscope-1float');
    const graph = readModel(readSharedModel('mobilenet_v1_0.25_224_float.tflite'));
    const precisionOf = (name: string) => opPrecisionOf(recipe, graph, 0, graph.subgraphs[0].operators.find((op) => graph.subgraphs[0].tensors[op.outputs[0]].name.includes(name))!);
    expect(['Conv2d_0/', 'Conv2d_1_depthwise', 'Conv2d_2_depthwise', 'Conv2d_2_pointwise'].map(precisionOf)).toEqual(['float', 'int8', 'int16x8', 'int8']);
    expect(opPrecisionOf(parseRecipe({ technique: 'int16x8' }), graph, 0, graph.subgraphs[0].operators[3])).toBe('int16x8');
    expect(() => parseRecipe({ technique: 'dynamic', activationBitsByScope: [{ opTypes: ['CONV_2D'], bits: 16 }] })).toThrow(/activationBitsByScope needs technique int8 or int16x8/);
    expect(() => parseRecipe({ technique: 'int8', activationBitsByScope: [{ opTypes: ['CONV_2D'], bits: 4 }] })).toThrow(/activationBitsByScope\[0\].bits must be 8 or 16/);
    expect(() => parseRecipe({ technique: 'int8', activationBitsByScope: [{ bits: 16 }] })).toThrow(/needs opTypes or tensorNamePattern/);

    // AEQ: the main scheme with activation num_bits 16 (symmetric) for each scope, after the weight entries.
    const plain = { ...recipe, keepFloat: [], equalize: 'off' as const, rounding: 'nearest' as const };
    const { entries, notMapped } = toAeqRecipe(plain);
    expect(notMapped).toEqual([]);
    expect(entries.slice(1).map((e) => [e.regex, e.operation, e.op_config?.activation_tensor_config?.num_bits, e.op_config?.activation_tensor_config?.symmetric, e.op_config?.weight_tensor_config?.num_bits])).toEqual([
      ['.*', 'DEPTHWISE_CONV_2D', 16, true, 8],
      ['Conv2d_1_depthwise', '*', 8, false, 8],
      ['Conv2d_0/', '*', 16, true, 8],
    ]);
    const back = fromAeqRecipe(JSON.parse(JSON.stringify(entries)));
    expect(back.notMapped).toEqual([]);
    expect(back.recipe.activationBitsByScope).toEqual(plain.activationBitsByScope);
    expect(back.recipe.weightBitsByScope).toEqual([]);
    // An AEQ 16-bit entry with other weight bits becomes both scopes.
    const w4 = fromAeqRecipe([entries[0], { ...entries[1], op_config: { ...entries[1].op_config, weight_tensor_config: { num_bits: 4, symmetric: true } } }]);
    expect(w4.recipe).toMatchObject({ activationBitsByScope: [{ opTypes: ['DEPTHWISE_CONV_2D'], bits: 16 }], weightBitsByScope: [{ opTypes: ['DEPTHWISE_CONV_2D'], bits: 4 }] });
  });

  it('exports what AEQ cannot carry as notes', () => {
    const { notMapped } = toAeqRecipe(parseRecipe({ technique: 'int8', io: 'int8', calibration: { algorithm: 'percentile' }, integerOnly: true }));
    // algorithm, io, integerOnly, and the cross-layer equalization and gptq rounding every int8 recipe gets by default.
    expect(notMapped).toHaveLength(5);
  });

  it('carries the weight rounding: gptq by default, checked, in the label when not the default, noted for AEQ', () => {
    expect(defaultRecipe('int8').rounding).toBe('gptq');
    const recipe = parseRecipe({ technique: 'int8', rounding: 'adaround' });
    expect(recipe.rounding).toBe('adaround');
    expect(parseRecipe(JSON.parse(JSON.stringify(recipe)))).toEqual(recipe);
    expect(recipeLabel(recipe)).toBe('int8-round-adaround');
    expect(recipeLabel(defaultRecipe('int8'))).toBe('int8');
    expect(recipeLabel(defaultRecipe('dynamic'))).toBe('dynamic');
    expect(toAeqRecipe(recipe).notMapped.join('\n')).toMatch(/adaround weight rounding/);
    expect(toAeqRecipe(parseRecipe({ technique: 'int8', rounding: 'nearest' })).notMapped.join('\n')).not.toMatch(/rounding/);
    expect(() => parseRecipe({ technique: 'int8', rounding: 'up' })).toThrow(/rounding must be nearest, gptq, adaround/);
  });

  it('carries cross-layer equalization: auto means int8 / 16x8 of either granularity; AEQ recipes neither carry nor break it', () => {
    expect(defaultRecipe('int8').equalize).toBe('auto');
    expect(equalizeApplies(defaultRecipe('int8'))).toBe(true);
    expect(equalizeApplies(parseRecipe({ technique: 'int8', granularity: 'per-tensor' }))).toBe(true);
    expect(equalizeApplies(parseRecipe({ technique: 'int16x8', granularity: 'per-tensor' }))).toBe(true);
    expect(equalizeApplies(parseRecipe({ technique: 'int8', granularity: 'per-tensor', equalize: 'off' }))).toBe(false);
    expect(equalizeApplies(parseRecipe({ technique: 'int8', equalize: 'on' }))).toBe(true);
    // Techniques without calibration never equalize, whatever the field says.
    expect(equalizeApplies(parseRecipe({ technique: 'dynamic', granularity: 'per-tensor', equalize: 'on' }))).toBe(false);
    expect(() => parseRecipe({ technique: 'int8', equalize: true })).toThrow(/equalize must be auto, on, off/);
    const recipe = parseRecipe({ technique: 'int8', equalize: 'on' });
    expect(parseRecipe(JSON.parse(JSON.stringify(recipe)))).toEqual(recipe);
    expect(recipeLabel(recipe)).toBe('int8-cle-on');
    expect(toAeqRecipe(recipe).notMapped.join('\n')).toMatch(/cross-layer equalization/);
    // AEQ's format has no such field: an imported recipe gets the default.
    expect(fromAeqRecipe(toAeqRecipe(recipe).entries).recipe.equalize).toBe('auto');
  });

  it('floatWeights float16: int8 / int16x8 only, in the label, and the kept-float scopes go to AEQ as float casting', () => {
    const recipe = parseRecipe({ technique: 'int8', keepFloat: [{ tensorNamePattern: '^a$' }], floatWeights: 'float16' });
    expect(recipe.floatWeights).toBe('float16');
    expect(recipeLabel(recipe)).toMatch(/1float-f16float/);
    expect(parseRecipe({ technique: 'int8' }).floatWeights).toBeUndefined();
    expect(() => parseRecipe({ technique: 'int8', floatWeights: 'bfloat16' })).toThrow(/floatWeights must be "float16"/);
    expect(() => parseRecipe({ technique: 'dynamic', floatWeights: 'float16' })).toThrow(/floatWeights needs technique int8 or int16x8/);
    const kept = toAeqRecipe(recipe).entries.find((e) => e.regex === '^a$')!;
    expect(kept).toMatchObject({ algorithm_key: 'float_casting', op_config: { weight_tensor_config: { num_bits: 16, dtype: 'FLOAT' }, compute_precision: 'FLOAT' } });
    expect(toAeqRecipe({ ...recipe, floatWeights: undefined }).entries.find((e) => e.regex === '^a$')!.algorithm_key).toBe('no_quantize');
  });
});
