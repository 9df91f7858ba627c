/**
 * A segmenter's masks/ folder in the data: how many masks are measured against, or why they are not
 * used, and the mask scale (stored value = class x scale). The scale is never guessed: when values
 * look stored as class x 10 the message says so and the user sets it here.
 */
import { useState } from 'react';
import type { DatasetInfo } from '../../app/worker-protocol';
import { setPreprocessing } from '../session';

export function MaskLabelsInfo({ info }: { info: DatasetInfo }) {
  const { masks, maskProblem } = info;
  const [scale, setScale] = useState(String(masks?.scale ?? 1));
  if (!masks && !maskProblem) return null;
  const details = masks
    ? [
        masks.scale !== 1 ? `values / ${masks.scale}` : null,
        masks.ignore !== null ? `${masks.ignoredPixels.toLocaleString('en-US')} pixels at ${masks.ignore} not counted` : null,
        masks.resized ? `${masks.resized} resized nearest-neighbour to the output's ${masks.grid[1]}x${masks.grid[0]}` : null,
      ].filter(Boolean)
    : [];
  return (
    <>
      {masks && (
        <p data-testid="masks-info" data-images={masks.images} data-scale={masks.scale}>
          Masks: <strong>{masks.images}</strong> image{masks.images === 1 ? '' : 's'} ({[`${masks.name}/`, ...details].join(', ')}): segmentation variants are measured by mIoU against them.
        </p>
      )}
      {maskProblem && (
        <p className="error-inline" role="alert" data-testid="masks-problem">
          Masks not used: {maskProblem}
        </p>
      )}
      <form
        className="split"
        onSubmit={(e) => {
          e.preventDefault();
          const n = Number(scale);
          if (Number.isInteger(n) && n >= 1) void setPreprocessing(null, undefined, n);
        }}
      >
        <label>
          Mask scale (stored value = class × scale)
          <input type="number" min={1} step={1} value={scale} onChange={(e) => setScale(e.target.value)} data-testid="mask-scale" />
        </label>
        <button type="submit" className="button" data-testid="mask-scale-apply">Use scale</button>
      </form>
    </>
  );
}
