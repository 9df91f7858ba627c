/**
 * A detector with a raw head (box regressions and scores per anchor, no post-processing op): where
 * the user gives its anchors file and box coder, so variants are measured by mAP@0.5 of the decoded
 * boxes against the float model's (evaluate/box-decoding.ts).
 */
import { useEffect, useState } from 'react';
import { BOX_CODERS, type BoxCoder } from '../../evaluate/box-decoding';
import { setAnchorsCoder, setAnchorsFile, useSession } from '../session';

const CODER_TEXT: Record<BoxCoder, string> = {
  ssd: 'SSD (y, x, h, w; scales 10, 10, 5, 5; background class 0)',
  'mediapipe-face': 'MediaPipe face (x, y, w, h in pixels of 128; fixed anchor size)',
};

export function AnchorsSettings() {
  const rawHead = useSession((s) => s.rawHead);
  const anchors = useSession((s) => s.anchors);
  const given = anchors.status === 'ready' ? anchors.source.coder : null;
  const [coder, setCoder] = useState<BoxCoder>(given ?? 'ssd');
  // Anchors restored with a session bring their coder.
  useEffect(() => {
    if (given) setCoder(given);
  }, [given]);
  if (!rawHead) return null;
  const changeCoder = (next: BoxCoder) => {
    setCoder(next);
    void setAnchorsCoder(next);
  };
  return (
    <div className="anchors" data-testid="anchors-settings" data-anchors={rawHead.anchors}>
      <h3>Detection: anchors</h3>
      <p className="small">
        This model outputs {rawHead.shapes.map((s) => `[${s.join(', ')}]`).join(' and ')}: raw boxes and scores for {rawHead.anchors} anchors, with no
        post-processing op. Give its anchors to measure variants by mAP@0.5 of the decoded boxes against the float model's: a CSV with
        y_center, x_center, h, w per anchor, normalized to the input, {rawHead.anchors} rows. Run variants after setting it.
      </p>
      <div className="split">
        <label>
          Box coder
          <select value={coder} data-testid="anchors-coder" onChange={(e) => changeCoder(e.target.value as BoxCoder)}>
            {BOX_CODERS.map((c) => <option key={c} value={c}>{CODER_TEXT[c]}</option>)}
          </select>
        </label>
        <label className="button file-picker">
          Anchors file (CSV)…
          <input className="visually-hidden" type="file" accept=".csv,text/csv" data-testid="anchors-input" onChange={(e) => {
            const picked = e.target.files?.[0] ?? null;
            e.target.value = '';
            if (picked) void setAnchorsFile(picked, coder);
          }} />
        </label>
        {anchors.status === 'ready' && <button type="button" className="link-button" onClick={() => void setAnchorsFile(null, coder)}>Remove</button>}
      </div>
      {anchors.status === 'ready' && (
        <p className="small ok" role="status" data-testid="anchors-status" data-count={anchors.info.anchors}>
          Using {anchors.info.fileName}: {anchors.info.anchors} anchors, boxes [{anchors.info.boxesShape.join(', ')}], scores [{anchors.info.scoresShape.join(', ')}], {anchors.info.coder} coder.
        </p>
      )}
      {anchors.status === 'error' && <p className="error-inline" role="alert" data-testid="anchors-error">{anchors.error}</p>}
    </div>
  );
}
