/** Everything the summary says about the open model: key facts, weights by dtype, ops, I/O, largest tensors. */
import { useState, type ReactNode } from 'react';
import type { ModelSummary, QuantizationState } from '../../tflite/summary-types';
import { exactBytes, formatBytes, formatCompactCount, formatInteger, formatPercent, formatShape } from '../format';
import type { LoadedModel } from '../store';
import { TensorTable } from './TensorTable';
import { WeightBytesBar } from './WeightBytesBar';

const QUANTIZATION_LABELS: Record<QuantizationState, string> = {
  float32: 'Float32 (not quantized)',
  float16: 'Float16 weights',
  'dynamic-range': 'Dynamic range (int8 weights, float activations)',
  'weight-only-int8': 'Weight-only int8 (dequantized to float)',
  int8: 'Full integer int8',
  uint8: 'Full integer uint8 (legacy)',
  '16x8': '16x8 (int16 activations, int8 weights)',
  mixed: 'Mixed (partly quantized)',
  'no-weights': 'No weights',
};

function Bytes({ bytes }: { bytes: number }) {
  return <span title={exactBytes(bytes)}>{formatBytes(bytes)}</span>;
}

function Fact({ label, testId, children }: { label: string; testId: string; children: ReactNode }) {
  return (
    <div className="fact" data-testid={testId}>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function ListOrNone({ items }: { items: ReactNode[] }) {
  if (items.length === 0) return <span className="muted">none</span>;
  return (
    <ul className="inline-list">
      {items.map((item, index) => (
        <li key={index}>{item}</li>
      ))}
    </ul>
  );
}

function KeyFacts({ model }: { model: LoadedModel }) {
  const s = model.summary;
  return (
    <section className="card" aria-labelledby="facts-heading">
      <h3 id="facts-heading">Key facts</h3>
      <dl className="facts" data-testid="facts">
        <Fact label="File size" testId="fact-size">
          <Bytes bytes={s.bytes} /> <span className="muted">({exactBytes(s.bytes)})</span>
        </Fact>
        <Fact label="Gzip size" testId="fact-gzip">
          <Bytes bytes={s.gzipBytes} /> <span className="muted">({formatPercent(s.gzipBytes, s.bytes)} of the file)</span>
        </Fact>
        <Fact label="Parameters" testId="fact-params">
          <span title={`${formatInteger(s.params)} elements in constant tensors`}>{formatCompactCount(s.params)}</span>{' '}
          <span className="muted">({formatInteger(s.params)})</span>
        </Fact>
        <Fact label="Quantization" testId="fact-quantization">
          <span data-state={s.quantization}>{QUANTIZATION_LABELS[s.quantization] ?? s.quantization}</span>
        </Fact>
        <Fact label="Ops" testId="fact-ops">
          {formatInteger(s.opCount)} <span className="muted">({Object.keys(s.ops).length} kinds)</span>
        </Fact>
        <Fact label="Subgraphs" testId="fact-subgraphs">
          {s.subgraphCount}
        </Fact>
        <Fact label="Signatures" testId="fact-signatures">
          <ListOrNone
            items={s.signatures.map((signature) => (
              <span title={`subgraph ${signature.subgraphIndex}; inputs: ${signature.inputs.join(', ')}; outputs: ${signature.outputs.join(', ')}`}>
                <code>{signature.key}</code>{' '}
                <span className="muted">
                  ({signature.inputs.length} in, {signature.outputs.length} out)
                </span>
              </span>
            ))}
          />
        </Fact>
        <Fact label="Custom ops" testId="fact-custom-ops">
          <ListOrNone items={s.customOps.map((name) => <code>{name}</code>)} />
        </Fact>
        <Fact label="Metadata" testId="fact-metadata">
          <ListOrNone
            items={s.metadata.map((entry) => (
              <span>
                <code>{entry.name}</code> <span className="muted">(<Bytes bytes={entry.bytes} />)</span>
              </span>
            ))}
          />
        </Fact>
        <Fact label="Associated files" testId="fact-associated-files">
          <ListOrNone items={s.associatedFiles.map((name) => <code>{name}</code>)} />
        </Fact>
        <Fact label="Schema version" testId="fact-schema">
          {s.schemaVersion}
        </Fact>
        {s.description && (
          <Fact label="Description" testId="fact-description">
            {s.description}
          </Fact>
        )}
      </dl>
    </section>
  );
}

function Notes({ notes }: { notes: string[] }) {
  if (notes.length === 0) return null;
  return (
    <section className="card notes" aria-labelledby="notes-heading" data-testid="notes">
      <h3 id="notes-heading">Notes</h3>
      <ul>
        {notes.map((note, index) => (
          <li key={index}>{note}</li>
        ))}
      </ul>
    </section>
  );
}

function OpHistogram({ summary }: { summary: ModelSummary }) {
  const rows = Object.entries(summary.ops).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const max = rows[0]?.[1] ?? 0;
  const custom = new Set(summary.customOps);
  return (
    <section className="card" aria-labelledby="ops-heading">
      <h3 id="ops-heading">
        Ops <span className="count">{formatInteger(summary.opCount)}</span>
      </h3>
      {rows.length === 0 ? (
        <p className="muted">This model has no operators.</p>
      ) : (
        <table className="data-table op-table" data-testid="op-table">
          <thead>
            <tr>
              <th scope="col">Op</th>
              <th scope="col" className="numeric">
                Count
              </th>
              <th scope="col">
                <span className="visually-hidden">Share</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map(([name, count]) => (
              <tr key={name} data-testid="op-row" data-op={name} data-count={count}>
                <td className="name">
                  <code>{name}</code>
                  {custom.has(name) && <span className="tag">custom</span>}
                </td>
                <td className="numeric">{formatInteger(count)}</td>
                <td className="bar-cell" aria-hidden="true">
                  <span className="op-bar" style={{ width: `${(count / max) * 100}%` }} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function dtypes(list: string[]): string {
  if (list.length === 0) return '—';
  const unique = [...new Set(list)];
  return unique.length === 1 && list.length > 1 ? `${unique[0]} x${list.length}` : list.join(', ');
}

/** Every operator in execution order with the dtypes in and out: collapsed, rendered only when opened. */
function OpList({ summary }: { summary: ModelSummary }) {
  const [open, setOpen] = useState(false);
  const list = summary.operatorList ?? [];
  if (list.length === 0) return null;
  const multi = summary.subgraphCount > 1;
  return (
    <section className="card" aria-labelledby="oplist-heading">
      <details onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)} data-testid="op-list">
        <summary>
          <h3 id="oplist-heading" style={{ display: 'inline' }}>
            Op list <span className="count">{formatInteger(list.length)}</span>
          </h3>{' '}
          <span className="muted small">execution order, with the dtypes each op reads and writes</span>
        </summary>
        {open && (
          <div className="table-wrap">
            <table className="data-table" data-testid="op-list-table">
              <thead>
                <tr>
                  <th scope="col" className="numeric">#</th>
                  <th scope="col">Op</th>
                  <th scope="col">Input dtype(s) → output dtype(s)</th>
                  <th scope="col">Weights</th>
                </tr>
              </thead>
              <tbody>
                {list.map((op) => (
                  <tr key={`${op.subgraph}:${op.index}`} data-testid="op-list-row" data-op={op.op} data-in={op.inputDtypes.join(',')} data-out={op.outputDtypes.join(',')}>
                    <td className="numeric">{multi ? `${op.subgraph}:${op.index}` : op.index}</td>
                    <td className="name"><code>{op.op}</code></td>
                    <td>
                      <code>{dtypes(op.inputDtypes)}</code> → <code>{dtypes(op.outputDtypes)}</code>
                    </td>
                    <td>{op.weightDtypes.length ? <code>{dtypes(op.weightDtypes)}</code> : <span className="muted">no</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </details>
    </section>
  );
}

function LargestTensors({ summary }: { summary: ModelSummary }) {
  if (summary.largestTensors.length === 0) return null;
  const weightBytes = Object.values(summary.bytesByDtype).reduce((sum, bytes) => sum + bytes, 0);
  return (
    <section className="card" aria-labelledby="largest-heading">
      <h3 id="largest-heading">Largest tensors</h3>
      <table className="data-table" data-testid="largest-tensors">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">DType</th>
            <th scope="col">Shape</th>
            <th scope="col" className="numeric">
              Size
            </th>
            <th scope="col" className="numeric">
              Share of weights
            </th>
          </tr>
        </thead>
        <tbody>
          {summary.largestTensors.map((tensor, index) => (
            <tr key={index} data-testid="largest-row">
              <td className="name">{tensor.name || <span className="muted">(unnamed)</span>}</td>
              <td>{tensor.dtype}</td>
              <td className="shape">
                <code>{formatShape(tensor.shape)}</code>
              </td>
              <td className="numeric">
                <Bytes bytes={tensor.bytes} />
              </td>
              <td className="numeric">
                {formatPercent(tensor.bytes, weightBytes)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ModelSummaryView({ model }: { model: LoadedModel }) {
  const { summary } = model;
  return (
    <article className="summary" data-testid="summary" data-file-name={model.fileName} aria-labelledby="summary-heading">
      <header className="summary-header">
        <h2 id="summary-heading" data-testid="summary-file-name">
          {model.fileName}
        </h2>
        <p className="muted">
          <Bytes bytes={summary.bytes} /> · {formatCompactCount(summary.params)} parameters ·{' '}
          {QUANTIZATION_LABELS[summary.quantization] ?? summary.quantization}
        </p>
      </header>
      <Notes notes={summary.notes} />
      <div className="summary-grid">
        <KeyFacts model={model} />
        <div className="stack">
          <section className="card" aria-labelledby="weights-heading">
            <h3 id="weights-heading">Weight bytes by dtype</h3>
            <WeightBytesBar bytesByDtype={summary.bytesByDtype} />
          </section>
          <OpHistogram summary={summary} />
        </div>
      </div>
      <section className="card" aria-labelledby="io-heading">
        <h3 id="io-heading" className="visually-hidden">
          Inputs and outputs
        </h3>
        <TensorTable caption="Inputs" tensors={summary.inputs} testId="inputs" />
        <TensorTable caption="Outputs" tensors={summary.outputs} testId="outputs" />
      </section>
      <OpList summary={summary} />
      <LargestTensors summary={summary} />
    </article>
  );
}
