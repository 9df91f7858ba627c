/** The anchors file and box decoding of a raw detection head, from --anchors and the --box-* flags. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseAnchorsCsv } from '../evaluate/anchors';
import { BOX_CODER_PRESETS, BOX_CODERS, type BoxCoder, type BoxDecoding, type RawDetectionSpec } from '../evaluate/box-decoding';
import { WorkbenchError } from '../errors';
import { choiceOption } from './choice-option';
import { positiveInteger } from './count-option';
import { UsageError } from './usage-error';

export interface RawDetectionFlags {
  anchors?: string;
  boxCoder?: string;
  boxOrder?: string;
  boxScale?: string;
  boxSizes?: string;
  boxScores?: string;
  scoreThreshold?: string;
  nmsIou?: string;
  maxDetections?: string;
}

const DECODING_FLAGS = ['boxCoder', 'boxOrder', 'boxScale', 'boxSizes', 'boxScores', 'scoreThreshold', 'nmsIou', 'maxDetections'] as const;

function fraction(value: string | undefined, flag: string, allowZero: boolean): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (!Number.isFinite(x) || x > 1 || x < 0 || (!allowZero && x === 0)) throw new UsageError(`${flag} takes a number in ${allowZero ? '[0' : '(0'}, 1], got "${value}".`, false);
  return x;
}

function scales(value: string): BoxDecoding['scale'] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if ((parts.length !== 1 && parts.length !== 4) || parts.some((x) => !Number.isFinite(x) || x <= 0)) {
    throw new UsageError(`--box-scale takes one positive number or four (Y,X,H,W), got "${value}".`, false);
  }
  return parts.length === 1 ? [parts[0], parts[0], parts[0], parts[0]] : (parts as BoxDecoding['scale']);
}

/** The spec, or undefined without --anchors (then a --box-* flag is a usage error). */
export function rawDetectionFromFlags(flags: RawDetectionFlags): RawDetectionSpec | undefined {
  const anchors = flags.anchors;
  if (!anchors) {
    const given = DECODING_FLAGS.filter((k) => flags[k] !== undefined).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    if (given.length) throw new UsageError(`${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} for decoding a raw detection head: give its anchors with --anchors A.csv.`, false);
    return undefined;
  }
  const preset = BOX_CODER_PRESETS[choiceOption<BoxCoder>(flags.boxCoder, BOX_CODERS, '--box-coder') ?? 'ssd'];
  const decoding: BoxDecoding = {
    ...preset,
    order: choiceOption(flags.boxOrder, ['yxhw', 'xywh'] as const, '--box-order') ?? preset.order,
    scale: flags.boxScale !== undefined ? scales(flags.boxScale) : preset.scale,
    sizes: choiceOption(flags.boxSizes, ['exp', 'linear'] as const, '--box-sizes') ?? preset.sizes,
    scores: choiceOption(flags.boxScores, ['sigmoid', 'raw'] as const, '--box-scores') ?? preset.scores,
    scoreThreshold: fraction(flags.scoreThreshold, '--score-threshold', true) ?? preset.scoreThreshold,
    iouThreshold: fraction(flags.nmsIou, '--nms-iou', false) ?? preset.iouThreshold,
    maxDetections: positiveInteger(flags.maxDetections, '--max-detections') ?? preset.maxDetections,
  };
  let text: string;
  try {
    text = readFileSync(anchors, 'utf8');
  } catch (error) {
    throw new WorkbenchError('bad-input', `cannot read the anchors file ${anchors}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  return { anchors: parseAnchorsCsv(text, basename(anchors)), decoding };
}
