import { DropZone } from './components/DropZone';
import { GraphPanel } from './graph/GraphPanel';
import { EmptyState } from './components/EmptyState';
import { ErrorBanner } from './components/ErrorBanner';
import { ModelSummaryView } from './components/ModelSummaryView';
import { OpenSessionDialog } from './components/OpenSessionDialog';
import { SessionSwitcher } from './components/SessionSwitcher';
import { clearSession, useSession } from './session';
import { StatusLine } from './components/StatusLine';
import { useWorkbench } from './store';
import { Workbench } from './workbench/Workbench';

/** Said where it is seen: right under the header, not below the model summary. */
function RestoredNote() {
  const note = useSession((s) => s.restoredNote);
  if (!note) return null;
  return (
    <p className="restored" role="status" data-testid="restored-note">
      {note}{' '}
      <button type="button" className="link-button" onClick={() => void clearSession()}>Start over</button>
    </p>
  );
}

export function App() {
  const model = useWorkbench((state) => state.model);
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <h1>tflite-workbench</h1>
          <p>Inspect and optimize LiteRT models in your browser</p>
        </div>
        <DropZone />
        <SessionSwitcher />
      </header>
      <OpenSessionDialog />
      <main className="app-main">
        {/* Shown with the restored model (not while it is still being read). */}
        {model && <RestoredNote />}
        <StatusLine />
        <ErrorBanner />
        {model && (
          <nav className="jump" aria-label="Workbench sections" data-testid="jump-nav">
            Optimize: <a href="#wizard-heading">1 · What do you need?</a> <a href="#data-heading">2 · Data</a>{' '}
            <a href="#experiments-heading">3 · Experiments</a> <a href="#results-heading">4 · Results</a>
          </nav>
        )}
        {model ? <ModelSummaryView model={model} /> : <EmptyState />}
        {model && <GraphPanel />}
        {model && <Workbench />}
      </main>
    </div>
  );
}
