import { describe, expect, it } from 'vitest';
import { overlaps, placeLabels } from './labels';

const options = { charWidth: 6, lineHeight: 12, markerRadius: 6, bounds: { x: 0, y: 0, width: 500, height: 200 } };

describe('placeLabels', () => {
  it('labels coincident points (float and float16 at the same latency and accuracy) apart, clear of both markers', () => {
    const points = [
      { x: 300, y: 40, text: 'float model' },
      { x: 300, y: 40, text: 'float16' },
      { x: 304, y: 42, text: 'dynamic' },
      { x: 120, y: 150, text: 'int8' },
    ];
    const placed = placeLabels(points, options);
    expect(placed.map((p) => p.text)).toEqual(points.map((p) => p.text));
    for (let i = 0; i < placed.length; i++) {
      for (let j = i + 1; j < placed.length; j++) expect(overlaps(placed[i], placed[j]), `${placed[i].text} / ${placed[j].text}`).toBe(false);
      for (const p of points) expect(overlaps(placed[i], { x: p.x - 6, y: p.y - 6, width: 12, height: 12 })).toBe(false);
      expect(placed[i].x).toBeGreaterThanOrEqual(0);
      expect(placed[i].x + placed[i].width).toBeLessThanOrEqual(500);
    }
    // A lone point gets the spot to its right.
    expect(placed[3]).toMatchObject({ x: 120 + 6 + 3, y: 150 - 6 });
  });

  it('goes left at the right edge', () => {
    const [label] = placeLabels([{ x: 495, y: 100, text: 'cluster16pc-int8' }], options);
    expect(label.x + label.width).toBeLessThanOrEqual(495 - 6);
  });
});
