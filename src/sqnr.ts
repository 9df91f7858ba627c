/** Signal-to-quantization-noise ratio in dB from summed powers; shared by calibration-time checks and evaluation. */
export function sqnrFromPowers(signal: number, noise: number): number {
  if (noise === 0) return Number.isNaN(signal) ? NaN : Infinity;
  if (signal === 0) return -Infinity;
  return 10 * Math.log10(signal / noise);
}
