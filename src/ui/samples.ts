/** The models bundled in public/samples/ (see public/samples/README.md for where they come from). */
export interface Sample {
  id: string;
  fileName: string;
  label: string;
  detail: string;
  bytes: number;
}

export const SAMPLES: readonly Sample[] = [
  {
    id: 'mobilenet',
    fileName: 'mobilenet_v1_0.25_224_float_metadata.tflite',
    label: 'MobileNet v1',
    detail: 'float32 · metadata + labels',
    bytes: 1_894_378,
  },
  {
    id: 'mnist',
    fileName: 'mnist_conv_fc_float.tflite',
    label: 'MNIST CNN',
    detail: 'float32 · dynamic batch',
    bytes: 205_040,
  },
  {
    id: 'kws',
    fileName: 'kws_dscnn_int8.tflite',
    label: 'Keyword spotting',
    detail: 'full int8',
    bytes: 53_936,
  },
];

export function sampleUrl(sample: Sample): string {
  return `${import.meta.env.BASE_URL}samples/${encodeURIComponent(sample.fileName)}`;
}
