/**
 * The data: a folder, a zip, images or .npy files picked here (they go to the optimizer worker),
 * the preprocessing (from metadata, or proposed and editable), a preview of decoded inputs with the
 * float model's top predictions, and the calibration / evaluation split.
 */
import { DATA_FILE_ACCEPT, DATA_FORMATS_TEXT } from './data-formats';
import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import type { Preprocessing } from '../../data/preprocess';
import type { PreviewItem } from '../../app/worker-protocol';
import { setDataFiles, setPreprocessing, setSplit, useSession } from '../session';
import { AnchorsSettings } from './AnchorsSettings';
import { MaskLabelsInfo } from './MaskLabelsInfo';

function picked(event: ChangeEvent<HTMLInputElement>): { file: File; path: string }[] {
  const files = Array.from(event.target.files ?? []).map((file) => ({ file, path: file.webkitRelativePath || file.name }));
  event.target.value = '';
  return files;
}

/** RGBA pixels on a canvas, scaled up by CSS. */
export function PixelCanvas({ rgba, width, height, label }: { rgba: Uint8ClampedArray; width: number; height: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(rgba), width, height), 0, 0);
  }, [rgba, width, height]);
  return <canvas ref={ref} aria-label={label} />;
}

function Thumb({ item }: { item: PreviewItem }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !item.rgba) return;
    canvas.width = item.width;
    canvas.height = item.height;
    canvas.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(item.rgba), item.width, item.height), 0, 0);
  }, [item]);
  const right = item.label !== null && item.top[0] && item.top[0].name === item.label;
  return (
    <figure className="thumb" data-testid="preview-item">
      {item.rgba ? <canvas ref={ref} aria-label={`input ${item.name}`} /> : <div className="thumb-none">not an image</div>}
      <figcaption>
        <span className="thumb-name" title={item.name}>{item.name.split('/').pop()}</span>
        {item.label !== null && <span>label <strong>{item.label}</strong></span>}
        <span className={item.label === null ? '' : right ? 'ok' : 'bad'}>
          float: {item.top.map((t) => `${t.name} ${(t.score * (t.score <= 1 ? 100 : 1)).toFixed(t.score <= 1 ? 0 : 1)}${t.score <= 1 ? '%' : ''}`).join(', ')}
        </span>
        <span className="muted">range {item.min.toFixed(2)}…{item.max.toFixed(2)}</span>
      </figcaption>
    </figure>
  );
}

function PreprocessingEditor({ value }: { value: Preprocessing }) {
  const [mean, setMean] = useState(value.mean.join(', '));
  const [std, setStd] = useState(value.std.join(', '));
  const [order, setOrder] = useState(value.channelOrder);
  useEffect(() => {
    setMean(value.mean.join(', '));
    setStd(value.std.join(', '));
    setOrder(value.channelOrder);
  }, [value]);
  const parse = (text: string) => text.split(',').map((s) => Number(s.trim()));
  const m = parse(mean);
  const sd = parse(std);
  const valid = m.every(Number.isFinite) && sd.every((x) => Number.isFinite(x) && x !== 0) && [1, value.channels].includes(m.length) && [1, value.channels].includes(sd.length);
  return (
    <form
      className="prep-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid) void setPreprocessing({ ...value, mean: m, std: sd, channelOrder: order });
      }}
    >
      <label>
        Mean (per channel, on 0..255)
        <input value={mean} onChange={(e) => setMean(e.target.value)} data-testid="prep-mean" />
      </label>
      <label>
        Std
        <input value={std} onChange={(e) => setStd(e.target.value)} data-testid="prep-std" />
      </label>
      {value.channels === 3 && (
        <label>
          Channel order
          <select value={order} onChange={(e) => setOrder(e.target.value as 'RGB' | 'BGR')}>
            <option>RGB</option>
            <option>BGR</option>
          </select>
        </label>
      )}
      <button type="submit" className="button" disabled={!valid} data-testid="prep-apply">Apply</button>
      <span className="muted small">
        {value.width}×{value.height}×{value.channels}, bilinear resize; input = (pixel − mean) / std
      </span>
    </form>
  );
}

/** labels.csv column picker, offered when the CSV has several candidate columns or labels came from it. */
function LabelColumn({ notes, labelSource }: { notes: string[]; labelSource: string | null }) {
  const [column, setColumn] = useState('');
  const note = notes.find((n) => /label column/i.test(n));
  if (!note && labelSource !== 'csv') return null;
  const candidates = [...(note ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
  return (
    <form className="split" onSubmit={(e) => { e.preventDefault(); void setPreprocessing(null, column.trim() || null); }}>
      <label>
        Label column in labels.csv
        <input list="label-columns" value={column} onChange={(e) => setColumn(e.target.value)} data-testid="label-column" />
        <datalist id="label-columns">{candidates.map((c) => <option key={c} value={c} />)}</datalist>
      </label>
      <button type="submit" className="button">Use column</button>
      {candidates.length > 0 && <span className="muted small">Candidates: {candidates.join(', ')}</span>}
    </form>
  );
}

/** How the one seeded shuffle is cut: calibration, extra training, evaluation (never trained on). */
function splitNote(size: number, calibration: number, training: number, evaluation: number): string {
  const c = Math.min(calibration, size);
  const t = Math.max(0, Math.min(training, size - c - 1));
  const left = size - c - t;
  const e = Math.max(0, Math.min(evaluation, left));
  return (
    `One seeded shuffle: the first ${c} calibrate${t ? `, the next ${t} only train` : ''}, the next ${e} evaluate` +
    (left <= 0 ? ' (none left: evaluation reuses calibration samples)' : '') +
    `. Fine-tuning and QAT train on the ${c + t} calibration${t ? ' + training' : ''} samples (15% of them held out to pick the best epoch); evaluation samples are never used for training.`
  );
}

export function DataPanel() {
  const data = useSession((s) => s.data);
  const choice = useSession((s) => s.preprocessingChoice);
  const split = useSession((s) => s.split);
  const restoredNote = useSession((s) => s.restoredNote);
  const info = data.info;
  const prep = info?.preprocessing ?? choice?.preprocessing ?? null;
  return (
    <section className="card panel" aria-labelledby="data-heading" data-testid="data-panel">
      <h2 id="data-heading">2 · Data</h2>
      <p className="muted small">
        {DATA_FORMATS_TEXT} Read in this tab only.
        {restoredNote && ' Dataset files are not kept across reloads: pick them again.'}
      </p>
      <div className="data-pickers">
        <label className="button file-picker">
          Pick a folder…
          <input className="visually-hidden" type="file" multiple {...{ webkitdirectory: '' }} data-testid="data-folder-input" onChange={(e) => void setDataFiles(picked(e), 'folder')} />
        </label>
        <label className="button file-picker">
          Pick files or a zip…
          <input className="visually-hidden" type="file" multiple accept={DATA_FILE_ACCEPT} data-testid="data-files-input" onChange={(e) => {
            const files = picked(e);
            void setDataFiles(files, files.length === 1 ? files[0].path : `${files.length} files`);
          }} />
        </label>
        {data.status === 'loading' && <span className="status-loading" role="status"><span className="spinner" aria-hidden="true" /> Reading the data…</span>}
      </div>
      {data.status === 'error' && <p className="error-inline" role="alert" data-testid="data-error">{data.error}</p>}
      {data.status === 'none' && !info && <p className="empty-inline" data-testid="data-empty">No data yet. float16 and dynamic range run without data (compared on random inputs); int8 and 16x8 need ~100 representative samples.</p>}
      {info && (
        <div data-testid="data-info" data-size={info.size} data-labeled={String(info.labeled)}>
          <p>
            <strong>{info.size}</strong> samples ({info.kind}{data.source ? ` from ${data.source}` : ''}),{' '}
            {info.labeled ? `labeled (${info.labelSource}${info.classNames ? `: ${info.classNames.slice(0, 10).join(', ')}${info.classNames.length > 10 ? '…' : ''}` : ''})` : info.boxLabels ? 'with ground-truth boxes' : info.masks ? 'with ground-truth masks' : 'unlabeled: variants are compared by agreement with the float model'}.
          </p>
          {info.boxLabels && (
            <p data-testid="box-labels-info" data-boxes={info.boxLabels.boxes} data-images={info.boxLabels.images}>
              Box labels: <strong>{info.boxLabels.boxes}</strong> box{info.boxLabels.boxes === 1 ? '' : 'es'} on <strong>{info.boxLabels.images}</strong> image{info.boxLabels.images === 1 ? '' : 's'} ({info.boxLabels.name}): detection variants are measured by mAP@0.5 against them.
            </p>
          )}
          <MaskLabelsInfo key={`${info.name}/${info.fingerprint}`} info={info} />
          {info.notes.length > 0 && <ul className="notes small">{info.notes.map((n, i) => <li key={i}>{n}</li>)}</ul>}
          <LabelColumn notes={info.notes} labelSource={info.labelSource} />
        </div>
      )}
      {prep && (
        <div className="prep">
          <h3>Preprocessing</h3>
          <p className="small" data-testid="prep-source">
            {choice?.source === 'metadata' ? 'From the model metadata. ' : choice?.source === 'quantization' ? "From the input's quantization. " : 'Proposed (the model does not say): check the predictions below. '}
            <span className="muted">{choice?.reason}</span>
          </p>
          <PreprocessingEditor value={prep} />
        </div>
      )}
      <AnchorsSettings />
      {data.preview && (
        <div className="preview" data-testid="preview">
          {data.preview.map((item) => <Thumb key={item.name} item={item} />)}
        </div>
      )}
      {data.previewError && <p className="error-inline" role="alert">Preview failed: {data.previewError}</p>}
      {info && (
        <div className="split">
          <label>
            Calibration samples
            <input type="number" min={1} max={info.size} value={split.calibration} data-testid="split-calibration" onChange={(e) => setSplit({ ...split, calibration: Math.max(1, Number(e.target.value) || 1) })} />
          </label>
          <label>
            Evaluation samples (at most)
            <input type="number" min={1} value={split.evaluation} data-testid="split-evaluation" onChange={(e) => setSplit({ ...split, evaluation: Math.max(1, Number(e.target.value) || 1) })} />
          </label>
          <label>
            Extra training samples
            <input type="number" min={0} max={Math.max(0, info.size - split.calibration - 1)} value={split.training ?? 0} data-testid="split-training" onChange={(e) => setSplit({ ...split, training: Math.max(0, Math.floor(Number(e.target.value) || 0)) })} />
          </label>
          <span className="muted small" data-testid="split-note">
            {splitNote(info.size, split.calibration, split.training ?? 0, split.evaluation)}
          </span>
        </div>
      )}
    </section>
  );
}
