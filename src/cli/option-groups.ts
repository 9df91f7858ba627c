/**
 * The options of tflite-opt, in the groups the commands share (src/cli/commands.ts says which command
 * takes which). Each option is written here once: its parsing, its placeholder and its help line.
 */
import { ABSORB_MODES, CALIBRATION_ALGORITHMS, DEFAULT_ROUNDING, EQUALIZE_MODES, ROUNDING_METHODS, TECHNIQUES } from '../optimize/recipe';
import type { OptionGroup } from './option-spec';

/** The recipes --recipe names besides the techniques of a recipe. */
export const RECIPE_NAMES = [...TECHNIQUES, 'dequantize', 'none'];

export const resultOptions = {
  title: 'result',
  options: {
    output: { type: 'string', short: 'o', value: 'OUT', help: 'where to write the optimized model' },
    allowFloatFallback: {
      type: 'boolean',
      help: 'write the model even when ops the user did not exclude stay in float, or the result is larger than its input; without it such a result is a failure and the command exits non-zero',
    },
  },
} as const satisfies OptionGroup;

export const recipeOptions = {
  title: 'recipe',
  options: {
    recipe: { type: 'string', value: 'TECHNIQUE|CHAIN', help: `${RECIPE_NAMES.join('|')}, or a CHAIN (below)` },
    recipeFile: { type: 'string', value: 'R.json', help: "a recipe file, ours or AI Edge Quantizer's; the options below apply on top of it" },
    io: { type: 'string', value: 'float|int8|uint8', help: "the type of the model's inputs and outputs after int8 (default float)" },
    perTensor: { type: 'boolean', help: 'one scale per weight tensor instead of one per output channel' },
    weights: {
      type: 'string',
      value: 'int8|int4',
      help: 'bits per weight (default int8: W4A8 made MobileNetV1 0.25 0.59x the int8 file but cost 2.75 pt of top-1, 59.00% vs 61.75%, MobileNetV2 1.25 pt, 76.25% vs 77.50%, npm run bench:w4a8): int4 with weight-int8, dynamic, int8 (W4A8) or int16x8 (W4A16); depthwise convolutions stay int8 unless named (--op-weights), and so do the smallest layers (--small-layers)',
    },
    smallLayers: {
      type: 'string',
      value: 'int8|int4',
      help: 'int8 / int16x8 with --weights int4: the smallest layers it would make int4, together at most 2% of those weights, stay int8 (default int8: +2.6 pt top-1 and +6.6 pt agreement on MobileNetV1 0.25 W4A8 for 4,012 bytes, 5 folds, bench/README.md); int4 makes every one int4, as AI Edge Quantizer does',
    },
    opWeights: {
      type: 'string',
      multiple: true,
      value: 'REGEX|OP_TYPE=int4|int8',
      help: 'int8 / int16x8: bits for the matching ops (output tensor-name regex or op type), over --weights; the last match wins; repeat for more',
    },
    opActivations: {
      type: 'string',
      multiple: true,
      value: 'REGEX|OP_TYPE=int16|int8',
      help: 'int8 / int16x8: activation bits for the matching ops (output tensor-name regex or op type): int16 runs them 16x8 (int16 activations, int8 weights, int64 bias) inside an int8 model, joined by QUANTIZE int8 <-> int16; ops that only move data follow the op they share a scale with; the last match wins; repeat for more',
    },
    blockSize: { type: 'string', value: '32|64|128|256', help: 'blockwise int4 weights (with --weights int4, weight-int8 or dynamic), blocks along the input dimension (default: one scale per output channel, the form full-integer kernels read)' },
    algo: { type: 'string', value: CALIBRATION_ALGORITHMS.join('|'), help: 'how calibration chooses activation ranges (default minmax: the best output SQNR on MobileNetV1 0.25, top-1 within two images of the best, npm run bench:calibration)' },
    exclude: { type: 'string', multiple: true, value: 'REGEX|OP_TYPE', help: 'keep the matching ops in float; repeat for more' },
    integerOnly: { type: 'boolean', help: 'fail instead of leaving ops in float (Edge TPU, microcontrollers)' },
    equalize: {
      type: 'string',
      value: EQUALIZE_MODES.join('|'),
      help: 'cross-layer equalization of the float model before int8 / int16x8 calibration (default auto = on; never in chains)',
    },
    biasAbsorption: {
      type: 'string',
      value: ABSORB_MODES.join('|'),
      help: "high-bias absorption after equalization: channels that RELU / RELU6 never clipped on the calibration data move down into the next layer's bias, where that stays exact (default auto = off: it shifted 1 of 2736 channels of MobileNetV1 0.25, npm run bench:pertensor)",
    },
    rounding: {
      type: 'string',
      value: ROUNDING_METHODS.join('|'),
      help: `how int8 / int16x8 weights are rounded: to nearest, or to minimize each layer's output error on the calibration data (default ${DEFAULT_ROUNDING}: as good as adaround on MobileNetV1 and ~20x faster, npm run bench:rounding; nearest after prune, cluster or qat)`,
    },
  },
} as const satisfies OptionGroup;

export const calibrationOptions = {
  title: 'calibration (int8, int16x8)',
  options: {
    calib: { type: 'string', value: 'DIR|FILE.npy', help: 'representative samples: a folder or .zip of images, .npy or IDX files' },
    calibCount: { type: 'string', value: 'N', help: "how many of them to calibrate on, drawn at random (default: the recipe's, 100)" },
  },
} as const satisfies OptionGroup;

/** How every data option of a command (--calib, --eval, --train, --data) is read. */
export const datasetOptions = {
  title: 'reading the data',
  options: {
    labels: { type: 'string', value: 'CSV', help: "a CSV naming each file's class (without it, class folders do)" },
    labelColumn: { type: 'string', value: 'NAME', help: 'the column of --labels that holds the class' },
    mean: { type: 'string', value: 'M[,M,M]', help: 'subtracted from each pixel, per channel (overrides what the model says)' },
    std: { type: 'string', value: 'S[,S,S]', help: 'each pixel is then divided by it, per channel' },
  },
} as const satisfies OptionGroup;

export const chainEvaluationOptions = {
  title: 'evaluation of a chain',
  options: {
    eval: { type: 'string', value: 'DIR|FILE.npy', help: 'compare the result with MODEL on these samples (accuracy when they are labeled)' },
    evalCount: { type: 'string', value: 'N', help: 'how many samples to compare on (default all)' },
    evalOffset: { type: 'string', value: 'N', help: 'the first sample to compare on (default 0)' },
  },
} as const satisfies OptionGroup;

export const trainingOptions = {
  title: 'training (chains with finetune or qat)',
  options: {
    train: { type: 'string', value: 'DIR|FILE.npy', help: 'training samples; labels optional (without them the float model teaches)' },
    trainCount: { type: 'string', value: 'N', help: 'how many of them to train on (default all)' },
    epochs: { type: 'string', value: 'N', help: 'training epochs' },
    batch: { type: 'string', value: 'N', help: 'batch size (shrunk to fit memory)' },
    lr: { type: 'string', value: 'X', help: 'learning rate' },
    loss: { type: 'string', value: 'cross-entropy|distillation', help: 'default: cross-entropy with labels, distillation without' },
    augment: { type: 'string', value: 'none|flip', help: 'distillation: mirror training images left-right at random (the teacher scores the mirror); default none' },
    temperature: { type: 'string', value: 'T', help: "distillation of a softmax classifier: compare the student's and the teacher's distributions at temperature T, the loss times T^2 (default 1; qat+int8 --weights int4: the chain's, see --help of optimize)" },
  },
} as const satisfies OptionGroup;

export const evaluationDataOptions = {
  title: 'evaluation data',
  options: {
    data: { type: 'string', value: 'DIR|FILE.npy', help: 'the samples to evaluate on (accuracy when they are labeled)' },
    count: { type: 'string', value: 'N', help: 'how many of them, from the first (default all)' },
  },
} as const satisfies OptionGroup;

export const comparisonOptions = {
  title: 'comparison',
  options: {
    ref: { type: 'string', value: 'FLOAT_MODEL', help: 'the model to compare with (default MODEL itself); the data is prepared for it' },
    perLayer: { type: 'boolean', help: "also compare every layer's output (SQNR per layer)" },
    latency: { type: 'boolean', help: 'also measure latency in LiteRT (wasm CPU)' },
    overlay: { type: 'string', value: 'ME.json', help: 'write the per-layer error as a Model Explorer overlay (with --per-layer)' },
    metric: {
      type: 'string',
      value: 'top1|top5|agreement|map|miou|sqnr|cosine',
      help: "the task's quality measure, with a 95% interval (default from the model's outputs: top1 with labels, else agreement; map for detectors; miou for segmenters; else sqnr)",
    },
  },
} as const satisfies OptionGroup;

/** Detectors whose head outputs raw box regressions and scores (no TFLite_Detection_PostProcess). */
export const rawDetectionOptions = {
  title: 'detectors with a raw head (box regressions and scores per anchor)',
  options: {
    anchors: { type: 'string', value: 'A.csv', help: 'the anchors, one per row of the head: y_center,x_center,h,w normalized to the input (header optional); measures mAP@0.5 of the decoded, NMS-ed boxes' },
    boxCoder: {
      type: 'string',
      value: 'ssd|mediapipe-face',
      help: 'decoding preset (default ssd: y,x,h,w with scales 10,10,5,5, exp sizes, sigmoid scores, background column 0, NMS IoU 0.6; mediapipe-face: x,y,w,h in pixels of 128, fixed anchor size, sigmoid scores clipped at 100, NMS IoU 0.3); the options below override it',
    },
    boxOrder: { type: 'string', value: 'yxhw|xywh', help: 'the order of the four box values in a row' },
    boxScale: { type: 'string', value: 'S|Y,X,H,W', help: 'divisors of the raw y, x, h, w values (one number for all four)' },
    boxSizes: { type: 'string', value: 'exp|linear', help: 'h and w as exp(raw / scale) * anchor (SSD) or raw / scale * anchor (MediaPipe)' },
    boxScores: { type: 'string', value: 'sigmoid|raw', help: 'whether scores are logits to pass through a sigmoid' },
    scoreThreshold: { type: 'string', value: 'X', help: 'detections scoring below X are dropped before NMS (default 0.05: mAP wants the whole ranked list)' },
    nmsIou: { type: 'string', value: 'X', help: 'NMS drops a box overlapping a better one of its class by more than this IoU' },
    maxDetections: { type: 'string', value: 'N', help: 'at most N detections per image (default 100)' },
  },
} as const satisfies OptionGroup;

/** Ground-truth boxes for a detector (post-processed or raw head), on the evaluation data. */
export const boxLabelOptions = {
  title: 'detectors: ground-truth boxes',
  options: {
    boxLabels: {
      type: 'string',
      value: 'BOXES.csv',
      help: "the evaluation images' boxes: a CSV with header file,class,ymin,xmin,ymax,xmax (corners as fractions [0, 1] of the image, class id or a name from the model's labels), one row per box, an image without rows has no objects; mAP@0.5 is then measured against them instead of the float model's detections",
    },
  },
} as const satisfies OptionGroup;

/** Ground-truth masks for a segmentation model, on the evaluation data. */
export const maskLabelOptions = {
  title: 'segmentation: ground-truth masks',
  options: {
    masks: {
      type: 'string',
      value: 'DIR',
      help: "the evaluation images' masks: one PNG per image named like it (img001.jpg <-> DIR/img001.png), pixel value = class id (gray), or palette index = class (indexed colour, as PASCAL VOC's SegmentationClass); resized nearest-neighbour to the model's output grid; mIoU is then measured against them instead of the float model's argmax",
    },
    maskScale: { type: 'string', value: 'N', help: 'the masks store class id x N (default 1; tflite-support\'s golden masks: 10)' },
    maskIgnore: { type: 'string', value: 'V|none', help: 'pixels of stored value V count in no class (default 255, PASCAL VOC\'s void border)' },
  },
} as const satisfies OptionGroup;

export const searchOptions = {
  title: 'search',
  options: {
    output: { type: 'string', short: 'o', value: 'OUT', help: 'where to write the pick' },
    budget: {
      type: 'string',
      value: 'POINTS',
      help: 'the quality the pick may lose against the float model, in points of --metric (1 = one percentage point); for sqnr / cosine, the lowest value allowed',
    },
    metric: {
      type: 'string',
      value: 'top1|top5|agreement|map|miou|sqnr|cosine',
      help: "what the budget is measured in (default from the model's outputs: top1 with labels, else agreement; map; miou; else sqnr)",
    },
    objective: { type: 'string', value: 'size|latency|both', help: 'what the pick minimizes among the candidates that meet the budget (default size; latency is measured in LiteRT, 100 runs each; both: the size / latency Pareto front, and the pick is the smallest within 10% of the fastest)' },
    eval: { type: 'string', value: 'DIR|FILE.npy', help: 'the samples the search and its check run on (default: the --calib data, minus the calibration samples)' },
    evalCount: { type: 'string', value: 'N', help: 'how many of them the search evaluates candidates on (default 300)' },
    checkCount: { type: 'string', value: 'N', help: 'how many others confirm the pick, unseen by calibration and the search (default: all that are left)' },
    maxEvaluations: { type: 'string', value: 'N', help: 'at most this many candidates evaluated (default 30)' },
    sparsitySensitivity: {
      type: 'string',
      value: 'prune:S,cluster:K',
      help: "also measure each op's loss with the float model's weights pruned to sparsity S and / or clustered to K values per tensor (the per-op table's pruned and clustered columns; one per-layer comparison each, not a candidate)",
    },
    target: {
      type: 'string',
      value: 'cpu|integer|mcu|web',
      help: 'where the pick runs (default cpu): integer (Edge TPU / NPU: int8 only, integer I/O) and mcu (TFLite Micro) keep no op in float and refuse candidates with ops or tensors the target cannot take; web is what every candidate is measured in anyway',
    },
    arenaKb: { type: 'string', value: 'KB', help: 'with --target mcu: the largest tensor arena allowed (TFLM-style estimate), in KiB' },
    flashKb: { type: 'string', value: 'KB', help: 'with --target mcu: the largest model file allowed, in KiB' },
  },
} as const satisfies OptionGroup;

export const runInputOptions = {
  title: 'inputs',
  options: {
    input: { type: 'string', multiple: true, value: 'FILE.npy', help: 'one .npy per model input, in order; without any, seeded random inputs' },
    seed: { type: 'string', value: 'N', help: 'the seed of the random inputs (default 1)' },
  },
} as const satisfies OptionGroup;

export const reportOptions = {
  title: 'report',
  options: {
    report: { type: 'string', value: 'R.json', help: 'also write the report as JSON to R.json' },
  },
} as const satisfies OptionGroup;

export const jsonOptions = {
  title: 'output',
  options: {
    json: { type: 'boolean', help: 'print JSON instead of text' },
  },
} as const satisfies OptionGroup;
