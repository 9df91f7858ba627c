/**
 * A zip archive appended after the flatbuffer.
 *
 * TFLite metadata "associated files" (labels, vocabularies) are stored this way: the metadata
 * populator opens the model in zip append mode, so the archive's offsets count from the start of
 * the *model file*. When the flatbuffer in front changes size, those offsets must move with it, so
 * we keep the archive rebased to stand alone and shift it again when writing.
 */
import type { AppendedZip } from './graph';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

interface ZipLayout {
  /** Where the archive's first byte is in the file; all positions here are absolute in the file. */
  start: number;
  eocd: number;
  centralStart: number;
  entries: { centralAt: number; localOffset: number; name: string }[];
}

/** The zip appended to `bytes`, rebased to offset 0, or null when there is none. */
export function readAppendedZip(bytes: Uint8Array): AppendedZip | null {
  const layout = findZip(bytes);
  if (!layout || layout.start < 8) return null;
  const archive = bytes.slice(layout.start);
  writeOffsets(archive, layout, 0);
  return { bytes: archive, fileNames: layout.entries.map((e) => e.name) };
}

/** A copy of a standalone archive whose offsets are right once it is placed at `position` in a file. */
export function placeZipAt(zip: AppendedZip, position: number): Uint8Array {
  const archive = zip.bytes.slice();
  const layout = findZip(archive);
  if (!layout) throw new Error('appended zip archive is damaged');
  writeOffsets(archive, layout, position);
  return archive;
}

/** Rewrite the archive's offsets (found by `layout` in the file it came from) for a new position. */
function writeOffsets(archive: Uint8Array, layout: ZipLayout, position: number): void {
  const view = new DataView(archive.buffer, archive.byteOffset, archive.byteLength);
  const at = (absolute: number) => absolute - layout.start;
  for (const entry of layout.entries) view.setUint32(at(entry.centralAt) + 42, at(entry.localOffset) + position, true);
  view.setUint32(at(layout.eocd) + 16, at(layout.centralStart) + position, true);
}

function findZip(bytes: Uint8Array): ZipLayout | null {
  if (bytes.length < EOCD_SIZE) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lowest = Math.max(0, bytes.length - EOCD_SIZE - MAX_COMMENT);
  for (let eocd = bytes.length - EOCD_SIZE; eocd >= lowest; eocd--) {
    if (view.getUint32(eocd, true) !== END_OF_CENTRAL_DIRECTORY) continue;
    if (eocd + EOCD_SIZE + view.getUint16(eocd + 20, true) !== bytes.length) continue;
    const layout = parseCentralDirectory(bytes, view, eocd);
    if (layout) return layout;
  }
  return null;
}

function parseCentralDirectory(bytes: Uint8Array, view: DataView, eocd: number): ZipLayout | null {
  const count = view.getUint16(eocd + 10, true);
  const centralSize = view.getUint32(eocd + 12, true);
  const recordedCentralOffset = view.getUint32(eocd + 16, true);
  const centralStart = eocd - centralSize;
  if (count === 0 || centralStart < 0) return null;
  // Archives written in append mode record absolute offsets (delta 0); concatenated ones relative.
  const delta = centralStart - recordedCentralOffset;
  const entries: ZipLayout['entries'] = [];
  let at = centralStart;
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || view.getUint32(at, true) !== CENTRAL_HEADER) return null;
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const localOffset = view.getUint32(at + 42, true) + delta;
    if (localOffset < 0 || localOffset + 30 > centralStart || view.getUint32(localOffset, true) !== LOCAL_HEADER) return null;
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    entries.push({ centralAt: at, localOffset, name });
    at += 46 + nameLength + extraLength + commentLength;
  }
  const start = Math.min(...entries.map((e) => e.localOffset));
  return { start, eocd, centralStart, entries };
}
