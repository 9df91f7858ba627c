/** Calibrated activation ranges, as the integer quantizer reads them. */
export interface TensorRange {
  min: number;
  max: number;
}

/** Calibrated ranges by `${subgraph}:${tensor}` of the float model. */
export type RangeMap = Map<string, TensorRange>;

export const rangeKey = (subgraph: number, tensor: number) => `${subgraph}:${tensor}`;
