/**
 * Text labels next to chart points that do not overlap each other or another point's marker:
 * each label tries a few spots around its point (right, left, above, below, then further out) and
 * takes the first free one inside the plot. Greedy in the order given (the caller puts the points
 * that matter most first), a few dozen boxes at most, so a plain O(n^2) check is enough.
 */

export interface LabelRequest {
  x: number;
  y: number;
  text: string;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedLabel extends Box {
  text: string;
  /** The text's anchor point (start of the baseline) for an SVG <text>. */
  textX: number;
  textY: number;
}

export interface LabelOptions {
  /** Average glyph width and line height in px at the chart's font size. */
  charWidth: number;
  lineHeight: number;
  /** Marker radius around each point kept free of text. */
  markerRadius: number;
  /** The plot area labels must stay inside. */
  bounds: Box;
}

export function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function inside(a: Box, bounds: Box): boolean {
  return a.x >= bounds.x && a.y >= bounds.y && a.x + a.width <= bounds.x + bounds.width && a.y + a.height <= bounds.y + bounds.height;
}

export function placeLabels(points: LabelRequest[], options: LabelOptions): PlacedLabel[] {
  const { charWidth, lineHeight, markerRadius: r, bounds } = options;
  const markers: Box[] = points.map((p) => ({ x: p.x - r, y: p.y - r, width: 2 * r, height: 2 * r }));
  const placed: PlacedLabel[] = [];
  const gap = 3;
  for (const p of points) {
    const width = p.text.length * charWidth;
    const height = lineHeight;
    const spots: [number, number][] = [];
    // Rings of candidate spots (box top-left), nearest first.
    for (let ring = 0; ring < 6; ring++) {
      const dy = ring * height;
      spots.push(
        [p.x + r + gap, p.y - height / 2 - dy], [p.x + r + gap, p.y - height / 2 + dy],
        [p.x - r - gap - width, p.y - height / 2 - dy], [p.x - r - gap - width, p.y - height / 2 + dy],
        [p.x - width / 2, p.y - r - gap - height - dy], [p.x - width / 2, p.y + r + gap + dy],
      );
    }
    const free = (box: Box) => inside(box, bounds) && !placed.some((q) => overlaps(box, q)) && !markers.some((m) => overlaps(box, m));
    let choice: Box | null = null;
    for (const [x, y] of spots) {
      const box = { x, y, width, height };
      if (free(box)) {
        choice = box;
        break;
      }
    }
    // Nowhere free: the first spot clamped into the plot (better a touching label than none).
    if (!choice) {
      const [x, y] = spots[0];
      choice = { x: Math.min(Math.max(x, bounds.x), bounds.x + bounds.width - width), y: Math.min(Math.max(y, bounds.y), bounds.y + bounds.height - height), width, height };
    }
    placed.push({ ...choice, text: p.text, textX: choice.x, textY: choice.y + height * 0.8 });
  }
  return placed;
}
