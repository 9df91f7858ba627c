/** Number of elements of a tensor shape; dynamic (-1) dimensions count as 0. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * Math.max(d, 0), 1);
}
