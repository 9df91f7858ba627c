// Shared by the e2e tests (not a test file itself): did the page's own work block the main thread?
//
// A long task's duration is wall-clock time. On the 2-core CI machine the optimizer workers, Chromium's
// other processes and the test runner compete with the page's main thread, and the OS can preempt it in
// the middle of a 10 ms task: CI once saw a 289 ms "long task" while training MNIST, and a local run
// with four busy loops beside it saw a 255 ms frame in which the page's scripts ran 13 ms and its
// rendering 19 ms. What the page controls is the work its scripts put on the thread (event handlers,
// React renders, promise continuations): long animation frames (Chromium's long-animation-frame
// entries) attribute a frame's time to them, so a stall is a frame whose scripts take more than
// STALL_MS; a task over FREEZE_MS fails whatever its cause (a freeze no preemption explains). A frame's
// rendering phase is logged, not counted: the long-task check this replaces never saw it (a 114 ms
// paint of the workbench's results under CI load was no long task; 57-67 ms when the machine is idle).

export const STALL_MS = 100;
export const FREEZE_MS = 1000;

/** Records long tasks and long animation frames (with their script and render time) in every page of `context`. */
export async function observeMainThread(context) {
  await context.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    window.__longFrames = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const scripts = e.scripts.map((x) => ({ what: `${x.invoker} ${x.sourceFunctionName}@${x.sourceURL.split('/').pop()}:${x.sourceCharPosition}`, ms: x.duration }));
        const renderMs = e.renderStart ? e.startTime + e.duration - e.renderStart : 0;
        window.__longFrames.push({ start: e.startTime, duration: e.duration, scriptMs: scripts.reduce((n, x) => n + x.ms, 0), renderMs, scripts });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  });
}

const round = (x) => Math.round(x);

/**
 * The main thread between `start` and `end` (performance.now() of the page), leaving out the windows in
 * `exclude` ([from, to] pairs: a screenshot paints on the main thread by design). `stalls` lists the
 * frames whose scripts passed STALL_MS and the tasks over FREEZE_MS; `tasks` and
 * `frames` are every long task and long frame, for the log.
 */
export async function mainThreadIn(page, start, end, exclude = []) {
  const { tasks, frames } = await page.evaluate(
    ([s, e, ex]) => {
      const inside = (t) => t >= s && t <= e && !ex.some(([a, b]) => t >= a - 50 && t <= b);
      return { tasks: window.__longTasks.filter((t) => inside(t.start)), frames: window.__longFrames.filter((f) => inside(f.start)) };
    },
    [start, end, exclude],
  );
  const busy = frames.filter((f) => f.scriptMs > STALL_MS).map((f) => ({ kind: 'frame', ms: round(f.duration), scriptMs: round(f.scriptMs), renderMs: round(f.renderMs), scripts: f.scripts.map((x) => `${x.what} ${round(x.ms)}ms`) }));
  const frozen = tasks.filter((t) => t.duration > FREEZE_MS).map((t) => ({ kind: 'task', ms: round(t.duration) }));
  return {
    stalls: [...busy, ...frozen],
    tasks: tasks.map((t) => round(t.duration)),
    frames: frames.map((f) => ({ ms: round(f.duration), scriptMs: round(f.scriptMs), renderMs: round(f.renderMs) })),
  };
}

/**
 * Keeps the page's main thread busy for `ms` in an ordinary page task, then waits for the observers to
 * report it: a check that they see what they are meant to. Code run by page.evaluate itself is not
 * reported as a long task, hence setTimeout.
 */
export async function busyMainThread(page, ms) {
  await page.evaluate(
    (ms) =>
      new Promise((resolve) =>
        setTimeout(() => {
          const end = performance.now() + ms;
          while (performance.now() < end);
          resolve();
        }, 0),
      ),
    ms,
  );
  await page.waitForTimeout(200);
}
