/**
 * The workbench state: which model is shown, what is loading, the last error. A failed load never
 * replaces the model on screen; the error shows above it until dismissed or the next load starts.
 */
import { create } from 'zustand';
import type { ErrorInfo } from '../errors';
import type { ModelSummary } from '../tflite/summary-types';

export interface LoadedModel {
  fileName: string;
  fileBytes: number;
  summary: ModelSummary;
}

export interface PendingLoad {
  fileName: string;
  /** Known before reading for picked and dropped files and for samples; null otherwise. */
  fileBytes: number | null;
}

export interface FailedLoad {
  fileName: string;
  error: ErrorInfo;
}

export interface WorkbenchState {
  model: LoadedModel | null;
  loading: PendingLoad | null;
  error: FailedLoad | null;
  loadStarted(load: PendingLoad): void;
  loadSucceeded(model: LoadedModel): void;
  loadFailed(failure: FailedLoad): void;
  dismissError(): void;
}

export const useWorkbench = create<WorkbenchState>()((set) => ({
  model: null,
  loading: null,
  error: null,
  loadStarted: (load) => set({ loading: load, error: null }),
  loadSucceeded: (model) => set({ model, loading: null, error: null }),
  loadFailed: (failure) => set({ loading: null, error: failure }),
  dismissError: () => set({ error: null }),
}));
