/** The one table of kernels: op name -> kernel. Each family lives in its own file. */
import type { KernelTable } from '../kernel';
import { convKernels } from './conv';
import { elementwiseKernels } from './elementwise';
import { fullyConnectedKernels } from './fully-connected';
import { poolKernels } from './pool';
import { quantizeKernels } from './quantize';
import { reshapeKernels } from './reshape';
import { softmaxKernels } from './softmax';

export const KERNELS: KernelTable = {
  ...convKernels,
  ...elementwiseKernels,
  ...fullyConnectedKernels,
  ...poolKernels,
  ...quantizeKernels,
  ...reshapeKernels,
  ...softmaxKernels,
};
