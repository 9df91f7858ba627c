/**
 * Opening a model while the session has variants asks first: the request waits here until the
 * user picks "new session" (this one stays saved, reachable from the session switcher), "replace"
 * (this one is deleted) or cancel. Nothing is ever replaced silently.
 */
import { create } from 'zustand';
import { clearSession, sessionHasWork, useSession } from './session';

export interface PendingOpen {
  fileName: string;
  /** The session that would be left: its model and how many variants. */
  current: { modelName: string; variants: number };
  open: () => Promise<void>;
}

export const usePendingOpen = create<{ pending: PendingOpen | null }>()(() => ({ pending: null }));

/** Opens at once when nothing would be lost, else asks (the dialog calls resolvePendingOpen). */
export function openOrAsk(fileName: string, open: () => Promise<void>): Promise<void> {
  if (!sessionHasWork()) return open();
  const s = useSession.getState();
  usePendingOpen.setState({ pending: { fileName, current: { modelName: s.modelName!, variants: s.variants.length }, open } });
  return Promise.resolve();
}

export async function resolvePendingOpen(choice: 'new-session' | 'replace' | 'cancel'): Promise<void> {
  const pending = usePendingOpen.getState().pending;
  usePendingOpen.setState({ pending: null });
  if (!pending || choice === 'cancel') return;
  if (choice === 'replace') await clearSession();
  await pending.open();
}
