/** Number and size formatting for display; fixed to en-US so every machine shows the same text. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const threeDigits = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

/** 205040 -> "205,040". */
export function formatInteger(value: number): string {
  return integer.format(value);
}

export { formatBytes } from '../format-bytes';

/** "205,040 bytes", for titles next to a formatBytes value. */
export function exactBytes(bytes: number): string {
  return `${integer.format(bytes)} ${bytes === 1 ? 'byte' : 'bytes'}`;
}

/** 50608 -> "50.6 K", 3_228_864 -> "3.23 M". */
export function formatCompactCount(value: number): string {
  if (value < 1000) return integer.format(value);
  if (value < 999_500) return `${threeDigits.format(value / 1e3)} K`;
  if (value < 999_500_000) return `${threeDigits.format(value / 1e6)} M`;
  return `${threeDigits.format(value / 1e9)} G`;
}

/** Share of a whole, one decimal: "99.6%"; tiny shares keep one significant digit ("0.004%") and
 * near-whole ones read ">99.9%", so neither rounds to a misleading 0% or 100%. */
export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  const percent = (part / whole) * 100;
  if (percent === 0 || percent === 100) return `${percent}%`;
  if (percent < 0.1) return `${Number(percent.toPrecision(1))}%`;
  if (percent > 99.9) return '>99.9%';
  return `${percent.toFixed(1)}%`;
}

/** [1, 28, 28, 1] -> "[1, 28, 28, 1]"; dynamic (-1) dims as "?" when `dynamicAsQuestionMark`. */
export function formatShape(shape: readonly number[], dynamicAsQuestionMark = false): string {
  const dims = shape.map((dim) => (dynamicAsQuestionMark && dim < 0 ? '?' : String(dim)));
  return `[${dims.join(', ')}]`;
}

/** Quantization scales and other real numbers: 6 significant digits, no trailing zeros. */
export function formatReal(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}
