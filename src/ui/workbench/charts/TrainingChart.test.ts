/** The training chart says what its lines and markers are (issue #15 item 9), in a legend outside the plot. */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { TrainingPoint } from '../../../app/training-progress';
import { TrainingChart } from './TrainingChart';

describe('TrainingChart', () => {
  it('has a legend naming the loss and accuracy lines and the validation markers, under the plot', () => {
    const points: TrainingPoint[] = [
      ...Array.from({ length: 20 }, (_, i) => ({ x: i + 1, epoch: 1 + Math.floor(i / 10), phase: 'train' as const, loss: 2 / (i + 1), accuracy: Math.min(1, 0.1 + i * 0.05) })),
      { x: 10, epoch: 1, phase: 'validate', loss: NaN, accuracy: null, validationLoss: 0.3, validationAccuracy: 0.9 },
    ];
    const svg = renderToStaticMarkup(createElement(TrainingChart, { points, epochs: 2, stepsPerEpoch: 10 }));
    const legend = /<g[^>]*data-testid="training-legend"[^>]*transform="translate\(([\d.]+),([\d.]+)\)"[^>]*>(.*?)<\/g>/.exec(svg);
    expect(legend).not.toBeNull();
    const texts = [...legend![3].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).toEqual(['batch loss (left axis)', 'batch accuracy (right)', 'validation loss', 'validation accuracy']);
    // Below the step axis: no curve runs under it.
    const axisY = Number(/<line x1="48" x2="[\d.]+" y1="([\d.]+)"/.exec(svg)![1]);
    expect(Number(legend![2])).toBeGreaterThan(axisY);
  });
});
