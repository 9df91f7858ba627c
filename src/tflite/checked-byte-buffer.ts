/**
 * A flatbuffers ByteBuffer that refuses to read outside the file.
 *
 * The stock ByteBuffer reads `bytes[i]` without checks, so a corrupt offset yields `undefined -> 0`
 * and garbage flows on silently (or a bogus vector length drives a loop for billions of steps).
 * Every accessor of the generated code funnels through these few primitives, so checking here
 * turns any out-of-file reference into one clean exception that the reader reports.
 */
import * as flatbuffers from 'flatbuffers';

export class OutOfBoundsRead extends Error {
  constructor(readonly offset: number, readonly size: number, readonly capacity: number) {
    super(`offset ${offset} (+${size} bytes) points outside the ${capacity}-byte file`);
    this.name = 'OutOfBoundsRead';
  }
}

export class CheckedByteBuffer extends flatbuffers.ByteBuffer {
  private readonly limit: number;

  constructor(bytes: Uint8Array) {
    super(bytes);
    this.limit = bytes.length;
  }

  check(offset: number, size: number): void {
    if (!(offset >= 0 && offset + size <= this.limit)) throw new OutOfBoundsRead(offset, size, this.limit);
  }

  override readUint8(offset: number): number {
    this.check(offset, 1);
    return super.readUint8(offset);
  }

  override readUint16(offset: number): number {
    this.check(offset, 2);
    return super.readUint16(offset);
  }

  override readInt32(offset: number): number {
    this.check(offset, 4);
    return super.readInt32(offset);
  }

  override __string(offset: number, encoding?: flatbuffers.Encoding): string | Uint8Array {
    const start = offset + this.readInt32(offset);
    this.check(start + 4, this.readInt32(start));
    return super.__string(offset, encoding);
  }

  override __vector_len(offset: number): number {
    const start = offset + this.readInt32(offset);
    const length = this.readInt32(start);
    // Every element takes at least one byte, so a longer vector cannot fit in the file.
    this.check(start + 4, length);
    return length;
  }

  /** A vector's elements as a view, after checking that `length * elementSize` bytes exist. */
  vectorBytes(vectorFieldOffset: number, elementSize: number): Uint8Array {
    const length = this.__vector_len(vectorFieldOffset);
    const start = this.__vector(vectorFieldOffset);
    this.check(start, length * elementSize);
    return this.bytes().subarray(start, start + length * elementSize);
  }
}
