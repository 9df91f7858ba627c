/**
 * Ways to open a model: drop a file anywhere on the window (an overlay shows while dragging), the
 * file picker, or one of the bundled samples.
 */
import { useEffect, useState, type ChangeEvent } from 'react';
import { formatBytes } from '../format';
import { openFile, openSample } from '../open-model';
import { SAMPLES } from '../samples';
import { setDataFiles, useSession } from '../session';

/** Files of a drop with their paths, folders walked (webkitGetAsEntry), for the data panel. */
async function droppedDataFiles(transfer: DataTransfer): Promise<{ file: File; path: string }[]> {
  const entries = Array.from(transfer.items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((e): e is FileSystemEntry => Boolean(e));
  if (entries.length === 0) return Array.from(transfer.files).map((file) => ({ file, path: file.name }));
  const out: { file: File; path: string }[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ file, path: entry.fullPath.replace(/^\//, '') });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child);
      }
    }
  };
  for (const entry of entries) await walk(entry);
  return out;
}

function carriesFiles(event: DragEvent): boolean {
  return Array.from(event.dataTransfer?.types ?? []).includes('Files');
}

/** The file to open from a drop: the first .tflite if several were dropped, else the first file. */
function pickDroppedFile(files: FileList): File | null {
  const all = Array.from(files);
  return all.find((file) => file.name.toLowerCase().endsWith('.tflite')) ?? all[0] ?? null;
}

/** Tracks file drags over the whole window; returns whether one is in progress. */
function useWindowFileDrop(onFile: (file: File) => unknown, onData: (transfer: DataTransfer) => unknown): boolean {
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    // dragenter/dragleave fire for every element crossed; count them to know when the drag left.
    let depth = 0;
    const enter = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      setDragging(true);
    };
    const over = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault(); // allows the drop
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    };
    const leave = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (event: DragEvent) => {
      depth = 0;
      setDragging(false);
      if (!event.dataTransfer || !carriesFiles(event)) return;
      event.preventDefault(); // the browser would otherwise navigate to the file
      // With a model open, a drop without a .tflite (a folder, a zip, images, .npy) is data.
      const hasModelFile = Array.from(event.dataTransfer.files).some((f) => f.name.toLowerCase().endsWith('.tflite'));
      if (!hasModelFile && useSession.getState().modelName) {
        onData(event.dataTransfer);
        return;
      }
      const file = pickDroppedFile(event.dataTransfer.files);
      if (file) onFile(file);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [onFile, onData]);

  return dragging;
}

function dropData(transfer: DataTransfer): void {
  // Entries must be taken while the drop event is being handled: start at once.
  const pending = droppedDataFiles(transfer);
  void pending.then((files) => setDataFiles(files, files.length === 1 ? files[0].path : 'dropped files'));
}

export function DropZone() {
  const dragging = useWindowFileDrop(openFile, dropData);

  const onPick = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = ''; // picking the same file again still fires change
    if (file) void openFile(file);
  };

  return (
    <>
      <div className="open-controls">
        <label className="button button-primary file-picker" data-testid="file-picker-label">
          Open .tflite file…
          <input
            className="visually-hidden"
            type="file"
            accept=".tflite"
            data-testid="file-input"
            onChange={onPick}
          />
        </label>
        <div className="samples" role="group" aria-labelledby="samples-heading">
          <span id="samples-heading" className="samples-heading">
            Samples
          </span>
          {SAMPLES.map((sample) => (
            <button
              key={sample.id}
              type="button"
              className="button sample-button"
              data-testid={`sample-${sample.id}`}
              title={`${sample.fileName} (${formatBytes(sample.bytes)})`}
              onClick={() => void openSample(sample)}
            >
              <span className="sample-label">{sample.label}</span>
              <span className="sample-detail">
                {formatBytes(sample.bytes)} · {sample.detail}
              </span>
            </button>
          ))}
        </div>
      </div>
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
          <div className="drop-overlay-box">
            <strong>Drop the .tflite file to open it</strong>
            <span>It is read in this browser tab; nothing is uploaded.</span>
            <span>With a model open, drop a folder, zip, images or .npy files to use them as data.</span>
          </div>
        </div>
      )}
    </>
  );
}
