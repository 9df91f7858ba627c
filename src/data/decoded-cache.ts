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
 *
 * The pixels are copied into one large block, sized at the first image for the whole dataset
 * (its size times the image count, a quarter more, within the budget), rather than kept in the
 * decoder's own arrays: V8 answers retained ArrayBuffers that grow one by one beyond a few MB with
 * full garbage collections (seen with node --trace-gc while this was written: keeping the
 * decoder's arrays, or 8 MB blocks, slowed the first pass). With one block allocated up front,
 * npm run bench:dataset shows the first pass as fast as without the cache. Images larger than the
 * estimate go to further blocks.
 */
import type { DecodedImage } from './image-decode';

/** Default budget per dataset: about 400 ImageNet-sized photos (500x375 RGB), 64 MB. */
export const DECODED_CACHE_BYTES = 64 << 20;

/** Bytes of a further block, when images outgrow the first one's estimate. */
const FURTHER_BLOCK_BYTES = 8 << 20;

export class DecodedImageCache {
  private readonly images = new Map<number, DecodedImage>();
  private used = 0;
  private block: Uint8Array | null = null;
  private blockUsed = 0;

  /** `expectedImages`: how many images the dataset has (sizes the first block). */
  constructor(
    readonly budgetBytes = DECODED_CACHE_BYTES,
    private readonly expectedImages = 1,
  ) {}

  get(index: number): DecodedImage | undefined {
    return this.images.get(index);
  }

  /** Keeps a copy of `image` for `index` if it fits (see the header). */
  put(index: number, image: DecodedImage): void {
    const size = image.data.byteLength;
    if (this.images.has(index) || size > this.budgetBytes / 16 || this.used + size > this.budgetBytes) return;
    if (!this.block || this.blockUsed + size > this.block.length) {
      const wanted = this.block ? FURTHER_BLOCK_BYTES : Math.ceil(size * this.expectedImages * 1.25);
      this.block = new Uint8Array(Math.max(size, Math.min(wanted, this.budgetBytes - this.used)));
      this.blockUsed = 0;
    }
    const data = this.block.subarray(this.blockUsed, this.blockUsed + size);
    data.set(image.data);
    this.blockUsed += size;
    this.images.set(index, { ...image, data });
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
