/** The one table of kernels: op name -> kernel. Each family lives in its own file. */
import type { KernelTable } from '../kernel';
import { activationKernels } from './activation';
import { concatKernels } from './concat';
import { convKernels } from './conv';
import { elementwiseKernels } from './elementwise';
import { fullyConnectedKernels } from './fully-connected';
import { gatherKernels } from './gather';
import { logicKernels } from './logic';
import { mathKernels } from './math';
import { matmulKernels } from './matmul';
import { normalizationKernels } from './normalization';
import { padKernels } from './pad';
import { poolKernels } from './pool';
import { quantizeKernels } from './quantize';
import { reduceKernels } from './reduce';
import { reshapeKernels } from './reshape';
import { resizeKernels } from './resize';
import { sliceKernels } from './slice';
import { softmaxKernels } from './softmax';
import { transposeKernels } from './transpose';

export const KERNELS: KernelTable = {
  ...activationKernels,
  ...concatKernels,
  ...convKernels,
  ...elementwiseKernels,
  ...fullyConnectedKernels,
  ...gatherKernels,
  ...logicKernels,
  ...mathKernels,
  ...matmulKernels,
  ...normalizationKernels,
  ...padKernels,
  ...poolKernels,
  ...quantizeKernels,
  ...reduceKernels,
  ...reshapeKernels,
  ...resizeKernels,
  ...sliceKernels,
  ...softmaxKernels,
  ...transposeKernels,
};
