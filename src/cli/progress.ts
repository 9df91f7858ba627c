/** Progress lines on stderr: a live counter on a terminal, a few milestones in logs. */
export function progressPrinter(label: string): (done: number, total?: number) => void {
  const live = process.stderr.isTTY === true;
  let lastQuarter = -1;
  return (done, total) => {
    if (!total) return;
    if (live) {
      process.stderr.write(`\r${label} ${done}/${total}`);
      if (done === total) process.stderr.write('\n');
      return;
    }
    const quarter = Math.floor((4 * done) / total);
    if (quarter !== lastQuarter) {
      lastQuarter = quarter;
      process.stderr.write(`${label} ${done}/${total}\n`);
    }
  };
}

/** The optimize pipeline's stages: a counter while calibrating, one line as each other stage starts. */
export function stageProgress(): (stage: string, done: number, total?: number) => void {
  const calibrating = progressPrinter('calibrating');
  let lastStage = '';
  return (stage, done, total) => {
    if (stage === 'calibrate') calibrating(done, total);
    else if (stage !== lastStage) process.stderr.write(`${stage}...\n`);
    lastStage = stage;
  };
}
