/**
 * Weight (constant tensor) bytes by dtype as one horizontal stacked bar, with a legend carrying the
 * exact numbers. The bar is role="img" and its aria-label lists the same numbers for screen readers.
 */
import { exactBytes, formatBytes, formatInteger, formatPercent } from '../format';

/** Okabe-Ito colours (distinguishable with common colour-vision deficiencies); the legend names each. */
const DTYPE_COLORS: Record<string, string> = {
  FLOAT32: '#0072B2',
  FLOAT16: '#56B4E9',
  BFLOAT16: '#56B4E9',
  INT8: '#E69F00',
  UINT8: '#D55E00',
  INT16: '#009E73',
  INT32: '#CC79A7',
  INT64: '#7a5195',
  INT4: '#F0E442',
};
const FALLBACK_COLORS = ['#666666', '#999999', '#444444', '#bbbbbb'];

function colorOf(dtype: string, index: number): string {
  return DTYPE_COLORS[dtype] ?? FALLBACK_COLORS[index % FALLBACK_COLORS.length];
}

export function WeightBytesBar({ bytesByDtype }: { bytesByDtype: Record<string, number> }) {
  const entries = Object.entries(bytesByDtype)
    .filter(([, bytes]) => bytes > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = entries.reduce((sum, [, bytes]) => sum + bytes, 0);

  if (total === 0) {
    return (
      <p className="muted" data-testid="weights-none">
        This model has no constant weight data.
      </p>
    );
  }

  const label =
    'Weight bytes by dtype: ' +
    entries.map(([dtype, bytes]) => `${dtype} ${formatInteger(bytes)} bytes (${formatPercent(bytes, total)})`).join(', ') +
    `; total ${formatInteger(total)} bytes.`;

  return (
    <figure className="weights" data-testid="weights">
      <div className="weights-bar" role="img" aria-label={label} data-testid="weights-bar">
        {entries.map(([dtype, bytes], index) => (
          <span
            key={dtype}
            className="weights-segment"
            data-dtype={dtype}
            style={{ flexGrow: bytes, background: colorOf(dtype, index) }}
          />
        ))}
      </div>
      <figcaption>
        <ul className="legend" data-testid="weights-legend">
          {entries.map(([dtype, bytes], index) => (
            <li key={dtype} data-dtype={dtype} data-bytes={bytes}>
              <span className="swatch" style={{ background: colorOf(dtype, index) }} aria-hidden="true" />
              <span className="legend-dtype">{dtype}</span>{' '}
              <span title={exactBytes(bytes)}>{formatBytes(bytes)}</span>{' '}
              <span className="muted">
                ({exactBytes(bytes)}, {formatPercent(bytes, total)})
              </span>
            </li>
          ))}
          <li className="legend-total">
            Total <span title={exactBytes(total)}>{formatBytes(total)}</span>{' '}
            <span className="muted">({exactBytes(total)})</span>
          </li>
        </ul>
      </figcaption>
    </figure>
  );
}
