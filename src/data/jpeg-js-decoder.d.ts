/** Types for jpeg-js's decoder module alone (its index also loads the encoder, which needs Node's Buffer). */
declare module 'jpeg-js/lib/decoder.js' {
  interface JpegDecodeOptions {
    useTArray: true;
    colorTransform?: boolean;
    formatAsRGBA?: boolean;
    tolerantDecoding?: boolean;
    maxResolutionInMP?: number;
    maxMemoryUsageInMB?: number;
  }
  export default function decode(jpegData: Uint8Array, options: JpegDecodeOptions): { width: number; height: number; data: Uint8Array };
}
