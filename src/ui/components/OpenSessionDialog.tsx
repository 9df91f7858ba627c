/**
 * "Open another model?" asked in a native modal <dialog>: focus moves into it and stays there, Esc
 * cancels, Tab moves between the three choices, Enter takes the focused one (the safe default:
 * a new session, the current one kept).
 */
import { useEffect, useRef } from 'react';
import { resolvePendingOpen, usePendingOpen } from '../open-confirm';

export function OpenSessionDialog() {
  const pending = usePendingOpen((s) => s.pending);
  const ref = useRef<HTMLDialogElement>(null);
  const first = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (pending && !dialog.open) {
      dialog.showModal();
      first.current?.focus();
    }
    if (!pending && dialog.open) dialog.close();
  }, [pending]);
  return (
    <dialog ref={ref} className="card open-dialog" aria-labelledby="open-dialog-title" aria-describedby="open-dialog-text" data-testid="open-dialog"
      onCancel={(e) => { e.preventDefault(); void resolvePendingOpen('cancel'); }}>
      {pending && (
        <>
          <h2 id="open-dialog-title">Open {pending.fileName}?</h2>
          <p id="open-dialog-text">
            This session ({pending.current.modelName}, {pending.current.variants} variant{pending.current.variants === 1 ? '' : 's'}) is saved in this browser.
            Open the new model in a new session and keep this one (switch back from the Session menu at the top), or replace it.
          </p>
          <div className="dialog-actions">
            <button ref={first} type="button" className="button button-primary" data-testid="open-new-session" onClick={() => void resolvePendingOpen('new-session')}>Open in a new session</button>
            <button type="button" className="button" data-testid="open-replace" onClick={() => void resolvePendingOpen('replace')}>Replace this session</button>
            <button type="button" className="button" data-testid="open-cancel" onClick={() => void resolvePendingOpen('cancel')}>Cancel</button>
          </div>
        </>
      )}
    </dialog>
  );
}
