/**
 * --help and option parsing as a user meets them (a real process through bin/tflite-opt.mjs), checked
 * against the options the CLI took before the command table (written out here, apart from the table)
 * and against the parser itself.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../test-support/shared';
import { COMMANDS, commandOptions } from './commands';
import { flagOf } from './option-spec';
import { absorptionApplies, DEFAULT_ROUNDING, recipeLabel } from '../optimize/recipe';
import { recipeFromOptions, type RecipeOptions } from './recipe-options';
import { parseCommandLine } from './parse-command-line';
import { commandHelp } from './usage';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [join(repoRoot, 'bin/tflite-opt.mjs'), ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Every option each command accepted before the table (from the old hand-written parseArgs calls),
 * plus --allow-float-fallback, --equalize, --bias-absorption, --weights, --block-size, --op-weights, --op-activations, --rounding, eval's
 * --metric and the search command (with --target, --arena-kb, --flash-kb).
 */
/** Detectors with a raw head (eval and search). */
const RAW_DETECTION_FLAGS = ['--anchors', '--box-coder', '--box-order', '--box-scale', '--box-sizes', '--box-scores', '--score-threshold', '--nms-iou', '--max-detections'];
/** Ground-truth boxes of a detector (eval and search). */
const BOX_LABEL_FLAGS = ['--box-labels'];
/** Ground-truth masks of a segmenter (eval and search). */
const MASK_FLAGS = ['--masks', '--mask-scale', '--mask-ignore'];

const ACCEPTED: Record<string, string[]> = {
  inspect: ['--json'],
  optimize: [
    '--recipe', '--recipe-file', '--output', '--calib', '--calib-count', '--labels', '--label-column', '--mean', '--std', '--io',
    '--per-tensor', '--algo', '--exclude', '--integer-only', '--report', '--eval', '--eval-count', '--eval-offset', '--train',
    '--train-count', '--epochs', '--batch', '--lr', '--loss', '--augment', '--temperature', '--allow-float-fallback', '--equalize', '--weights', '--block-size',
    '--op-weights', '--op-activations', '--rounding', '--bias-absorption', '--small-layers',
  ],
  run: ['--input', '--seed', '--json'],
  eval: ['--ref', '--data', '--count', '--labels', '--label-column', '--mean', '--std', '--per-layer', '--latency', '--json', '--report', '--overlay', '--metric', ...RAW_DETECTION_FLAGS, ...BOX_LABEL_FLAGS, ...MASK_FLAGS],
  search: [
    '--output', '--budget', '--metric', '--objective', '--eval', '--eval-count', '--check-count', '--max-evaluations', '--sparsity-sensitivity',
    '--target', '--arena-kb', '--flash-kb', '--recipe', '--recipe-file', '--io', '--per-tensor', '--weights', '--block-size', '--op-weights', '--op-activations', '--algo', '--exclude', '--integer-only', '--equalize',
    '--bias-absorption', '--small-layers', '--rounding', '--calib', '--calib-count', '--labels', '--label-column', '--mean', '--std', '--report', ...RAW_DETECTION_FLAGS, ...BOX_LABEL_FLAGS, ...MASK_FLAGS,
  ],
};

/** The options optimize's handler would get for a valid command line plus `extra`. */
function parseOptimize(...extra: string[]): Record<string, unknown> {
  const parsed = parseCommandLine(COMMANDS.find((c) => c.name === 'optimize')!, ['m.tflite', '-o', 'out.tflite', '--recipe', 'int8', ...extra]);
  if (parsed.help) throw new Error('parsed as --help');
  return parsed.options;
}

describe('tflite-opt --help', () => {
  it('prints every command and its options on stdout and exits 0; without a command it exits 2', () => {
    const help = cli('--help');
    expect(help.code).toBe(0);
    expect(help.stderr).toBe('');
    for (const [name, flags] of Object.entries(ACCEPTED)) {
      expect(help.stdout).toContain(`tflite-opt ${name} MODEL`);
      for (const flag of flags) expect(help.stdout, flag).toMatch(new RegExp(`${flag === '--output' ? '-o' : flag}\\b`));
    }
    const bare = cli();
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe(help.stdout);
  });

  for (const name of ['optimize', 'eval', 'inspect', 'run', 'search']) {
    it(`tflite-opt ${name} --help explains each of its options and exits 0`, () => {
      const { code, stdout, stderr } = cli(name, '--help');
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(new RegExp(`^usage: tflite-opt ${name} MODEL`));
      for (const flag of [...ACCEPTED[name], '--help']) expect(stdout, flag).toMatch(new RegExp(`^  (-\\w, )?${flag}\\b.* \\w`, 'm'));
    });
  }
});

describe('tflite-opt options', () => {
  it('a misspelt option exits 2 with one line naming it and its right spelling', () => {
    const model = 'model.tflite'; // never read: the command line is refused first
    const misspelt = cli('optimize', model, '--recipe', 'int8', '--calib-cout', '50', '-o', 'out.tflite');
    expect(misspelt.code).toBe(2);
    expect(misspelt.stdout).toBe('');
    expect(misspelt.stderr).toBe('tflite-opt optimize: unknown option --calib-cout; did you mean --calib-count?\n');
    // An option of another command is unknown here, and nothing in eval is close to it.
    const elsewhere = cli('eval', model, '--data', 'x', '--integer-only');
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toBe('tflite-opt eval: unknown option --integer-only; tflite-opt eval --help lists the options\n');
  });

  it('a missing required option exits 2 naming it, then the usage', () => {
    const { code, stderr } = cli('optimize', 'model.tflite', '--recipe', 'int8');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tflite-opt optimize: missing -o OUT\nusage:\n {2}tflite-opt optimize MODEL -o OUT /);
  });

  it('each command accepts the options it accepted before, and its help names each of them', () => {
    for (const c of COMMANDS) {
      const flags = commandOptions(c).map(([key]) => flagOf(key));
      expect(flags.sort(), c.name).toEqual([...ACCEPTED[c.name]].sort());
      const help = commandHelp(c);
      for (const flag of flags) expect(help, `${c.name} ${flag}`).toContain(flag);
    }
  });

  it('every flag a command help shows parses, into the camelCase option handlers read', () => {
    for (const c of COMMANDS) {
      const required = commandOptions(c).filter(([key]) => c.required.includes(key)).flatMap(([key]) => [flagOf(key), 'x']);
      const shown = new Set(commandHelp(c).match(/(?<=^ {2}(-\w, )?)--[a-z-]+/gm));
      shown.delete('--help');
      expect(shown.size, c.name).toBe(commandOptions(c).length);
      for (const flag of shown) {
        const [key, spec] = commandOptions(c).find(([k]) => flagOf(k) === flag)!;
        const args = spec.type === 'boolean' ? [flag] : [flag, 'v'];
        const parsed = parseCommandLine(c, ['m.tflite', ...required, ...args]);
        if (parsed.help) throw new Error('parsed as --help');
        expect(parsed.model).toBe('m.tflite');
        expect(parsed.options[key], `${c.name} ${flag}`).toEqual(spec.type === 'boolean' ? true : spec.multiple ? ['v'] : 'v');
      }
    }
  });

  it('an absent boolean is false and a repeated option keeps every value in order', () => {
    expect(parseOptimize()).toMatchObject({ output: 'out.tflite', recipe: 'int8', perTensor: false, integerOnly: false, exclude: [] });
    expect(parseOptimize('--exclude', 'CONV_2D', '--exclude', 'head/.*').exclude).toEqual(['CONV_2D', 'head/.*']);
  });

  it('--allow-float-fallback reaches optimize as allowFloatFallback, false when absent', () => {
    expect(parseOptimize('--allow-float-fallback').allowFloatFallback).toBe(true);
    expect(parseOptimize().allowFloatFallback).toBe(false);
  });

  it('--equalize reaches the recipe; without it the recipe says auto, and a wrong mode is named', () => {
    const recipe = (...extra: string[]) => recipeFromOptions(parseOptimize(...extra) as RecipeOptions);
    expect(recipe('--equalize', 'on').equalize).toBe('on');
    expect(recipe('--per-tensor', '--equalize', 'off')).toMatchObject({ granularity: 'per-tensor', equalize: 'off' });
    expect(recipe().equalize).toBe('auto');
    expect(() => recipe('--equalize', 'yes')).toThrow(/equalize must be auto, on, off/);
  });

  it('--bias-absorption reaches the recipe (and its label); without it the recipe leaves it to auto, and a wrong mode is named', () => {
    const recipe = (...extra: string[]) => recipeFromOptions(parseOptimize(...extra) as RecipeOptions);
    expect(recipe('--bias-absorption', 'on').biasAbsorption).toBe('on');
    expect(recipeLabel(recipe('--bias-absorption', 'on'))).toBe('int8-absorb-on');
    expect(recipe().biasAbsorption).toBeUndefined();
    expect(absorptionApplies(recipe())).toBe(false);
    expect(absorptionApplies(recipe('--bias-absorption', 'on'))).toBe(true);
    expect(absorptionApplies(recipe('--bias-absorption', 'on', '--equalize', 'off'))).toBe(false);
    expect(() => recipe('--bias-absorption', 'yes')).toThrow(/biasAbsorption must be auto, on, off/);
  });

  it('--op-activations reaches the recipe as activationBitsByScope; a bad value or technique is named', () => {
    const recipe = (...extra: string[]) => recipeFromOptions(parseOptimize(...extra) as RecipeOptions);
    expect(recipe('--op-activations', 'SOFTMAX=int16', '--op-activations', 'Conv2d_0/=int16').activationBitsByScope).toEqual([
      { opTypes: ['SOFTMAX'], bits: 16 },
      { tensorNamePattern: 'Conv2d_0/', bits: 16 },
    ]);
    expect(() => recipe('--op-activations', 'SOFTMAX=int4')).toThrow(/--op-activations takes REGEX\|OP_TYPE=int16 or =int8, got "SOFTMAX=int4"/);
    const dynamic = (...extra: string[]) => recipeFromOptions({ ...(parseOptimize(...extra) as RecipeOptions), recipe: 'dynamic' });
    expect(() => dynamic('--op-activations', 'CONV_2D=int16')).toThrow(/activationBitsByScope needs technique int8 or int16x8/);
  });

  it('--weights int4 with int8 / int16x8 and --op-weights reach the recipe; combinations that make no sense are named', () => {
    const recipe = (...extra: string[]) => recipeFromOptions(parseOptimize(...extra) as RecipeOptions);
    expect(recipe('--weights', 'int4')).toMatchObject({ technique: 'int8', weightBits: 4, weightBitsByScope: [] });
    expect(recipe('--weights', 'int4').smallInt4Layers).toBeUndefined();
    expect(recipe('--weights', 'int4', '--small-layers', 'int4').smallInt4Layers).toBe('int4');
    expect(() => recipe('--weights', 'int4', '--small-layers', 'int2')).toThrow(/--small-layers must be int8 or int4, got "int2"/);
    expect(recipe('--weights', 'int4', '--op-weights', 'DEPTHWISE_CONV_2D=int4', '--op-weights', 'logits|Conv2d_0/=int8').weightBitsByScope).toEqual([
      { opTypes: ['DEPTHWISE_CONV_2D'], bits: 4 },
      { tensorNamePattern: 'logits|Conv2d_0/', bits: 8 },
    ]);
    expect(() => recipe('--op-weights', 'CONV_2D')).toThrow(/--op-weights takes REGEX\|OP_TYPE=int4 or =int8, got "CONV_2D"/);
    expect(() => recipe('--op-weights', 'CONV2D=int4')).toThrow(/unknown op type "CONV2D"/);
    expect(() => recipe('--weights', 'int4', '--block-size', '32')).toThrow(/blockSize needs technique weight-int8 or dynamic/);
    const dynamic = (...extra: string[]) => recipeFromOptions({ ...(parseOptimize(...extra) as RecipeOptions), recipe: 'dynamic' });
    expect(() => dynamic('--weights', 'int4', '--op-weights', 'CONV_2D=int8')).toThrow(/weightBitsByScope needs technique int8 or int16x8/);
    const float16 = (...extra: string[]) => recipeFromOptions({ ...(parseOptimize(...extra) as RecipeOptions), recipe: 'float16' });
    expect(() => float16('--weights', 'int4')).toThrow(/int4 weights need technique/);
  });

it('--rounding reaches the recipe; without it the recipe has the default, and a wrong method is named', () => {
    const recipe = (...extra: string[]) => recipeFromOptions(parseOptimize(...extra) as RecipeOptions);
    expect(recipe('--rounding', 'adaround').rounding).toBe('adaround');
    expect(recipe('--rounding', 'nearest').rounding).toBe('nearest');
    expect(recipe().rounding).toBe(DEFAULT_ROUNDING);
    expect(() => recipe('--rounding', 'floor')).toThrow(/rounding must be nearest, gptq, adaround/);
  });
});
