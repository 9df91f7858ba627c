/**
 * A chart on screen as a file: the SVG element serialized as a standalone .svg (namespace and the
 * font set inline, since the page's stylesheet does not travel with it), or drawn onto a canvas
 * at twice its size and saved as .png. Both stay in the browser (Blob URLs).
 */
import { download } from './download';

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svgText(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute('xmlns', SVG_NS);
  copy.setAttribute('font-family', getComputedStyle(svg).fontFamily || 'sans-serif');
  // CSS-only looks the file must keep: labels' size and colour.
  for (const text of copy.querySelectorAll('text.chart-label')) {
    text.setAttribute('font-size', '10');
    text.setAttribute('fill', '#333');
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(copy)}\n`;
}

export function downloadSvg(fileName: string, svg: SVGSVGElement): void {
  download(fileName, svgText(svg), 'image/svg+xml');
}

export async function downloadPng(fileName: string, svg: SVGSVGElement, scale = 2): Promise<void> {
  const width = Number(svg.getAttribute('width')) || svg.clientWidth;
  const height = Number(svg.getAttribute('height')) || svg.clientHeight;
  const url = URL.createObjectURL(new Blob([svgText(svg)], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext('2d')!;
    context.fillStyle = '#fff';
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (blob) download(fileName, new Uint8Array(await blob.arrayBuffer()), 'image/png');
  } finally {
    URL.revokeObjectURL(url);
  }
}
