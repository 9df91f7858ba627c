/**
 * The runs under way, by id, so a cancel can reach one: while a variant trains, cancel stops
 * training only (the best weights go on); otherwise it aborts the run.
 */
export interface RunControl {
  signal: AbortSignal;
  stopTraining: AbortSignal;
  onTrainingState: (training: boolean) => void;
}

interface Running {
  controller: AbortController;
  stopTraining: AbortController;
  training: boolean;
}

export class Runs {
  private readonly running = new Map<string, Running>();

  /** Runs `work` registered under `id`, with the signals a cancel sets. */
  async track<T>(id: string, work: (control: RunControl) => Promise<T>): Promise<T> {
    const run: Running = { controller: new AbortController(), stopTraining: new AbortController(), training: false };
    this.running.set(id, run);
    try {
      return await work({ signal: run.controller.signal, stopTraining: run.stopTraining.signal, onTrainingState: (training) => (run.training = training) });
    } finally {
      this.running.delete(id);
    }
  }

  cancel(id: string): void {
    const run = this.running.get(id);
    if (!run) return;
    if (run.training) run.stopTraining.abort();
    else run.controller.abort();
  }
}
