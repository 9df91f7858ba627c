/**
 * LiteRT's thrown errors are vague ("Failed to load model from buffer") while the cause goes to the
 * wasm's stderr or console.error / console.warn. Every call into LiteRT (start.ts, load.ts,
 * webgpu-probe.ts) runs here one at a time with that output captured, and a failure becomes one
 * WorkbenchError line naming the cause.
 */
import { WorkbenchError } from '../errors';
import type { GlueHooks } from './node-shim';

/** Lines LiteRT prints; null when nothing is being captured. */
let captureSink: string[] | null = null;
let queue: Promise<unknown> = Promise.resolve();

export const glueHooks: GlueHooks = {
  print: (text) => {
    if (captureSink) captureSink.push(text);
  },
  printErr: (text) => {
    if (captureSink) captureSink.push(text);
    else if (text.trim() && !/^INFO:/.test(text)) console.warn(`[LiteRT] ${text}`);
  },
};

export interface Captured<T> {
  value?: T;
  error?: unknown;
  failed: boolean;
  lines: string[];
}

/**
 * Runs `fn` after every earlier call has finished, with LiteRT's stderr and console.error /
 * console.warn collected instead of printed.
 */
export function exclusive<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const run = async (): Promise<Captured<T>> => {
    const lines: string[] = [];
    const saved = { error: console.error, warn: console.warn };
    captureSink = lines;
    console.error = (...args: unknown[]) => void lines.push(formatConsoleArgs(args));
    console.warn = (...args: unknown[]) => void lines.push(formatConsoleArgs(args));
    try {
      return { value: await fn(), failed: false, lines };
    } catch (error) {
      return { error, failed: true, lines };
    } finally {
      captureSink = null;
      console.error = saved.error;
      console.warn = saved.warn;
    }
  };
  const result = queue.then(run);
  queue = result.then(() => undefined);
  return result;
}

/** console-style arguments as one line; `%c` CSS styling and its arguments are dropped. */
function formatConsoleArgs(args: unknown[]): string {
  const parts = [...args];
  if (typeof parts[0] === 'string' && parts[0].includes('%c')) {
    const styles = (parts[0].match(/%c/g) ?? []).length;
    parts[0] = parts[0].replace(/%c/g, '');
    parts.splice(1, styles);
  }
  return parts.map((part) => (part instanceof Error ? part.message : String(part))).join(' ');
}

/** Messages LiteRT throws that say nothing about the cause. */
export const VAGUE_ERRORS = [/^Failed to (load|compile|create|run|invoke)\b/i, /^Unknown error/i];
/** Noise printed on every environment creation. */
const NOISE = [/NPU accelerator could not be loaded/, /Failed to create default WebGPU device/];

/** "ERROR: [file.cc:12] " and "└ ERROR: [...]" trace markers LiteRT puts in front of (or instead of) a message. */
const LOG_TAGS = /(?:└\s*)?(?:ERROR|WARNING|INFO):\s*(?:\[[^\]]*\]\s*)?/g;
const MAX_CAUSES = 4;

/**
 * The cause of a failure in one line: the errors LiteRT printed (log tags stripped, repeats of the
 * same message for other tensors counted instead of listed), then the thrown message when it adds
 * anything.
 */
export function failureCause(captured: Captured<unknown>): string {
  const groups = new Map<string, { text: string; count: number }>();
  const add = (raw: string) => {
    const text = raw.replace(LOG_TAGS, ' ').replace(/\s+/g, ' ').trim().replace(/[.:]+$/, '');
    if (!text || /^[\s└]*$/.test(text)) return;
    const key = text.replace(/\d+/g, '#');
    const group = groups.get(key);
    if (group) group.count++;
    else if (![...groups.values()].some((g) => g.text.includes(text))) groups.set(key, { text, count: 1 });
  };
  for (const line of captured.lines) {
    const text = line.trim();
    if (!text || NOISE.some((re) => re.test(text)) || /^(INFO|WARNING|VERBOSE|DEBUG):/.test(text)) continue;
    add(text);
  }
  const thrown = (captured.error instanceof Error ? captured.error.message : String(captured.error ?? '')).trim();
  if (thrown && (!groups.size || !VAGUE_ERRORS.some((re) => re.test(thrown)))) add(thrown);
  const causes = [...groups.values()].map((g) => (g.count > 1 ? `${g.text} (+${g.count - 1} similar)` : g.text));
  if (causes.length > MAX_CAUSES) causes.splice(MAX_CAUSES, causes.length - MAX_CAUSES, `... (${causes.length - MAX_CAUSES} more)`);
  return causes.join('; ') || 'unknown error';
}

export function warningLines(lines: string[]): string[] {
  const warnings: string[] = [];
  for (const line of lines) {
    const text = line.trim();
    if (!text || /^(INFO|VERBOSE|DEBUG):/.test(text) || NOISE.some((re) => re.test(text))) continue;
    const clean = text.replace(/^(WARNING|ERROR):\s*(\[[^\]]*\]\s*)?/, '');
    if (!warnings.includes(clean)) warnings.push(clean);
  }
  return warnings;
}

const UNSUPPORTED_CAUSE = /not (yet )?supported|unsupported|didn't find op|unresolved custom op|no registration/i;

export function runtimeError(doing: string, cause: string): WorkbenchError {
  if (/Element type INT(8|16) is not supported/.test(cause)) {
    cause += ' (LiteRT.js is unpatched: run `npm install` so that patches/@litertjs+core+2.5.3.patch is applied)';
  }
  return new WorkbenchError(UNSUPPORTED_CAUSE.test(cause) ? 'unsupported' : 'runtime', `LiteRT could not ${doing}: ${cause}`);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
