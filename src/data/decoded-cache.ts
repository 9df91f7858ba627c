/**
 * Decoded images kept for the next use of the same sample. A workbench session evaluates every
 * variant on the same images (and trains over them epoch after epoch), and decoding in JavaScript
 * (jpeg-js) costs more than the preprocessing after it: npm run bench:dataset measures both. The
 * pixels are kept exactly as decoded (8-bit), so a cached image gives the very same sample.
 *
 * Bounded by bytes, first come first kept: a session goes over the same indices in the same order
 * again and again, where evicting (least recently used) would throw out each image just before
 * its next use once the set outgrows the budget; keeping the first ones makes at least those fast.
 * An image larger than a sixteenth of the budget is never kept (a few photos would fill it).
 */
import type { DecodedImage } from './image-decode';

/** Default budget per dataset: about 400 ImageNet-sized photos (500x375 RGB), 64 MB. */
export const DECODED_CACHE_BYTES = 64 << 20;

export class DecodedImageCache {
  private readonly images = new Map<number, DecodedImage>();
  private used = 0;

  constructor(readonly budgetBytes = DECODED_CACHE_BYTES) {}

  get(index: number): DecodedImage | undefined {
    return this.images.get(index);
  }

  /** Keeps `image` for `index` if it fits (see the header). */
  put(index: number, image: DecodedImage): void {
    const size = image.data.byteLength;
    if (this.images.has(index) || size > this.budgetBytes / 16 || this.used + size > this.budgetBytes) return;
    this.images.set(index, image);
    this.used += size;
  }

  /** Bytes of pixels kept. */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.images.size;
  }
}
