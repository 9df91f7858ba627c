/**
 * Byte sizes as people read them, the same in the UI, the CLI and the reports: decimal units
 * (1 KB = 1,000 bytes, as file managers and download sizes show them), 3 significant digits, fixed
 * to en-US so every machine prints the same text.
 */
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const threeDigits = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** 205040 -> "205 KB", 1894378 -> "1.89 MB", 8 -> "8 B". */
export function formatBytes(bytes: number): string {
  let unit = 0;
  let value = bytes;
  while (unit < BYTE_UNITS.length - 1 && Number(value.toPrecision(3)) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${integer.format(bytes)} B` : `${threeDigits.format(value)} ${BYTE_UNITS[unit]}`;
}
