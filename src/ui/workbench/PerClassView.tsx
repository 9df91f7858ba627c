/**
 * A classification variant's per-class figures (evaluate/per-class.ts): an expandable section with
 * a table sortable by each column (header buttons, aria-sort), the most frequent confusions, and a
 * heat map of the confusion counts over the classes with most samples.
 */
import { useState } from 'react';
import { className, FEW_SAMPLES, type PerClassSummary } from '../../evaluate/per-class';
import { heatMap, sortedClasses, type PerClassColumn, type SortDirection } from './per-class-table';

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '—');

const COLUMNS: { key: PerClassColumn; label: string; first: SortDirection }[] = [
  { key: 'classId', label: 'Class', first: 'ascending' },
  { key: 'samples', label: 'Samples', first: 'descending' },
  { key: 'recall', label: 'Recall (95% CI)', first: 'ascending' },
  { key: 'precision', label: 'Precision', first: 'ascending' },
];

export function PerClassView({ label, summary }: { label: string; summary: PerClassSummary }) {
  const [sort, setSort] = useState<{ column: PerClassColumn; direction: SortDirection }>({ column: 'recall', direction: 'ascending' });
  const rows = sortedClasses(summary, sort.column, sort.direction);
  const map = heatMap(summary);
  const truth = summary.against === 'labels' ? 'the labels' : "the float model's top-1 (no labels)";
  const toggle = (column: PerClassColumn, first: SortDirection) =>
    setSort((s) => ({ column, direction: s.column === column ? (s.direction === 'ascending' ? 'descending' : 'ascending') : first }));
  return (
    <details className="per-class" data-testid="per-class">
      <summary>Per class: {label} ({rows.length} classes with samples, truth from {truth})</summary>
      <div className="per-class-body">
        <div className="table-wrap per-class-table">
          <table data-testid="per-class-table">
            <caption className="visually-hidden">Per-class figures of {label}; column headers sort</caption>
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th key={c.key} scope="col" aria-sort={sort.column === c.key ? sort.direction : 'none'}>
                    <button type="button" className="link-button" data-testid={`sort-${c.key}`} onClick={() => toggle(c.key, c.first)}>
                      {c.label}
                      {sort.column === c.key ? (sort.direction === 'ascending' ? ' ▲' : ' ▼') : ''}
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.classId} data-testid="per-class-row" data-class={c.classId} data-samples={c.samples} data-correct={c.correct} data-recall={c.recall}>
                  <th scope="row">{className(summary, c.classId)}</th>
                  <td>{c.samples}{c.samples < FEW_SAMPLES && <span className="muted small" title="The recall interval is wide: few samples of this class"> (few)</span>}</td>
                  <td>{c.correct}/{c.samples} = {pct(c.recall)} <span className="muted small">({pct(c.recallLow)}–{pct(c.recallHigh)})</span></td>
                  <td title={`predicted ${c.predicted} time(s)`}>{pct(c.precision)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h4>Most frequent confusions</h4>
          {summary.topConfusions.length ? (
            <ol className="small" data-testid="top-confusions">
              {summary.topConfusions.map((c) => (
                <li key={`${c.truth}-${c.predicted}`} data-truth={c.truth} data-predicted={c.predicted} data-count={c.count}>
                  {className(summary, c.truth)} → {className(summary, c.predicted)}: {c.count}
                </li>
              ))}
            </ol>
          ) : (
            <p className="small">No confusions: every sample's prediction matches its truth.</p>
          )}
          {map && map.classes.length > 1 && (
            <table className="heat-map small" data-testid="confusion-heat-map">
              <caption>Confusions among the {map.classes.length} classes with most samples (rows: truth, columns: predicted; shade: share of the row)</caption>
              <thead>
                <tr>
                  <td />
                  {map.classes.map((c) => <th key={c} scope="col" title={className(summary, c)}>{c}</th>)}
                </tr>
              </thead>
              <tbody>
                {map.classes.map((t, row) => (
                  <tr key={t}>
                    <th scope="row" title={className(summary, t)}>{t}</th>
                    {map.counts[row].map((n, column) => {
                      const share = map.rowTotals[row] ? n / map.rowTotals[row] : 0;
                      const diagonal = row === column;
                      return (
                        <td key={column} title={`${className(summary, t)} → ${className(summary, map.classes[column])}: ${n}`}
                          style={{ background: n ? `rgba(${diagonal ? '46, 125, 50' : '198, 40, 40'}, ${0.15 + 0.85 * share})` : undefined }}>
                          {n || ''}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </details>
  );
}
