/**
 * The decoded-image cache: first come first kept within the budget, large images never, and an
 * image dataset gives the same samples from it without reading the file again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../tflite/read';
import { dataDir, readSharedModel } from '../test-support/shared';
import { openDataset } from './dataset';
import { DecodedImageCache } from './decoded-cache';
import { defaultPreprocessing, graphInputs } from './default-preprocessing';
import type { DataFile } from './files';
import type { DecodedImage } from './image-decode';

const image = (bytes: number): DecodedImage => ({ width: bytes / 3, height: 1, channels: 3, data: new Uint8Array(bytes) });

describe('DecodedImageCache', () => {
  it('keeps images first come until the budget is full; never one over a sixteenth of it', () => {
    const cache = new DecodedImageCache(1600);
    cache.put(0, image(99));
    cache.put(1, image(150)); // > 1600 / 16
    for (let i = 2; i < 40; i++) cache.put(i, image(60));
    expect(cache.get(0)?.data.length).toBe(99);
    expect(cache.get(1)).toBeUndefined();
    expect(cache.size).toBe(1 + Math.floor((1600 - 99) / 60));
    expect(cache.bytes).toBeLessThanOrEqual(1600);
    expect(cache.get(2)).toBeDefined(); // the first ones stay
    expect(cache.get(39)).toBeUndefined();
  });
});

describe('image datasets with the cache', () => {
  it('give the very same samples again without reading the files; a budget of 0 reads them every time', async () => {
    const dir = join(dataDir, 'imagenet_val_subset', 'images');
    const names = readdirSync(dir).sort().slice(0, 6);
    const reads = new Map<string, number>();
    const files: DataFile[] = names.map((name) => {
      const bytes = new Uint8Array(readFileSync(join(dir, name)));
      return {
        path: name,
        size: bytes.length,
        read: async () => {
          reads.set(name, (reads.get(name) ?? 0) + 1);
          return bytes;
        },
      };
    });
    const mobilenet = readModel(readSharedModel('mobilenet_v1_0.25_224_float_metadata.tflite'));
    const preprocessing = defaultPreprocessing(mobilenet).preprocessing!;
    const cached = await openDataset(files, graphInputs(mobilenet), { preprocessing });
    const first = await Promise.all(names.map((_, i) => cached.sample(i)));
    const again = await Promise.all(names.map((_, i) => cached.sample(i)));
    again.forEach((sample, i) => expect(Buffer.from(sample[0].buffer).equals(Buffer.from(first[i][0].buffer))).toBe(true));
    again.forEach((sample, i) => expect(sample[0]).not.toBe(first[i][0])); // fresh arrays: callers may change them
    expect([...reads.values()].every((n) => n === 1)).toBe(true); // sample 0 was also read when opening
    reads.clear();
    const uncached = await openDataset(files, graphInputs(mobilenet), { preprocessing, decodedCacheBytes: 0 });
    const plain = await Promise.all(names.map((_, i) => uncached.sample(i)));
    await Promise.all(names.map((_, i) => uncached.sample(i)));
    plain.forEach((sample, i) => expect(Buffer.from(sample[0].buffer).equals(Buffer.from(first[i][0].buffer))).toBe(true));
    expect(reads.get(names[1])).toBe(2);
  });
});
