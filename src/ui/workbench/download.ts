/** Saves bytes or text as a file (a Blob URL and a download link; nothing leaves the machine). */
export function download(name: string, content: Uint8Array | string, type = 'application/octet-stream'): void {
  const blob = new Blob([content as BlobPart], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function modelBaseName(fileName: string): string {
  return fileName.replace(/\.tflite$/i, '');
}
