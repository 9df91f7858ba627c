/**
 * The op selected anywhere on the page (the graph, the diff, the per-layer chart), so they all show
 * the same one. `model` is 'float' or the id of the variant whose op index `opIndex` is.
 */
import { create } from 'zustand';

export interface SelectedOp {
  model: string;
  subgraph: number;
  opIndex: number;
}

interface SelectionState {
  selectedOp: SelectedOp | null;
}

export const useSelection = create<SelectionState>()(() => ({ selectedOp: null }));

export function selectOp(op: SelectedOp | null): void {
  const now = useSelection.getState().selectedOp;
  if (now && op && now.model === op.model && now.subgraph === op.subgraph && now.opIndex === op.opIndex) return;
  useSelection.setState({ selectedOp: op });
}
