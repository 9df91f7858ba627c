/**
 * Node side of the browser benches: the memory of the Chromium that Playwright started, read from
 * /proc every ~200 ms. Chromium runs a page's workers (and their nested workers) as threads of the
 * page's renderer process, so that process's RSS is what the worker run costs; the whole tree
 * (browser, GPU, network, renderers) is summed as RSS (shared pages counted in each process) and as
 * PSS (shared pages split between them: the fairer total). PSS comes from smaps_rollup, which walks
 * the whole address space (tens of ms for a renderer that reserved wasm memories), so it is read
 * every fifth sample only. Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ChromiumSample {
  /** Sum over the Chromium processes below this Node process. */
  rss: number;
  pss: number;
  /** The largest renderer's RSS (the page and its workers). */
  renderer: number;
  processes: number;
}

const read = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the process ended between listing and reading
  }
};
const kib = (text: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;

/** Chromium processes whose ancestry reaches `root` (the Playwright driver's Node process). */
function chromiumBelow(root: number): { pid: number; type: string }[] {
  const parent = new Map<number, number>();
  const command = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = read(`/proc/${pid}/stat`);
    // The command name sits in parentheses and may hold spaces; the fields after it are plain.
    const close = stat.lastIndexOf(')');
    if (close < 0) continue;
    parent.set(pid, Number(stat.slice(close + 2).split(' ')[1]));
    command.set(pid, stat.slice(stat.indexOf('(') + 1, close));
  }
  const below = (pid: number) => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  const found: { pid: number; type: string }[] = [];
  for (const [pid, comm] of command) {
    if (!/chrom/i.test(comm) || !below(pid)) continue;
    const type = /--type=([\w-]+)/.exec(read(`/proc/${pid}/cmdline`).replaceAll('\0', ' '))?.[1] ?? 'browser';
    found.push({ pid, type });
  }
  return found;
}

export function sampleChromium(root = process.pid, withPss = true): ChromiumSample {
  const sample: ChromiumSample = { rss: 0, pss: 0, renderer: 0, processes: 0 };
  for (const { pid, type } of chromiumBelow(root)) {
    const rss = kib(read(`/proc/${pid}/status`), 'VmRSS');
    sample.rss += rss;
    if (withPss) sample.pss += kib(read(`/proc/${pid}/smaps_rollup`), 'Pss');
    sample.processes++;
    if (type === 'renderer') sample.renderer = Math.max(sample.renderer, rss);
  }
  return sample;
}

/** Peaks since the last reset, sampled every `periodMs`; `stop` ends the timer. */
export function chromiumPeaks(periodMs = 200) {
  let peak: ChromiumSample = { rss: 0, pss: 0, renderer: 0, processes: 0 };
  let samples = 0;
  let costMs = 0;
  const take = (withPss = samples % 5 === 0) => {
    const started = performance.now();
    const s = sampleChromium(process.pid, withPss);
    costMs += performance.now() - started;
    samples++;
    peak = { rss: Math.max(peak.rss, s.rss), pss: Math.max(peak.pss, s.pss), renderer: Math.max(peak.renderer, s.renderer), processes: Math.max(peak.processes, s.processes) };
    return s;
  };
  const timer = setInterval(take, periodMs);
  return {
    /** The peaks so far, a fresh sample included; then starts over. */
    takePeak(): ChromiumSample {
      take(true);
      const p = peak;
      peak = { rss: 0, pss: 0, renderer: 0, processes: 0 };
      return p;
    },
    /** Mean time one sample took (reading smaps_rollup of large address spaces is not free). */
    sampleCostMs: () => costMs / Math.max(1, samples),
    stop: () => clearInterval(timer),
  };
}

