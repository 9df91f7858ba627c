import { DropZone } from './components/DropZone';
import { GraphPanel } from './graph/GraphPanel';
import { EmptyState } from './components/EmptyState';
import { ErrorBanner } from './components/ErrorBanner';
import { ModelSummaryView } from './components/ModelSummaryView';
import { StatusLine } from './components/StatusLine';
import { useWorkbench } from './store';
import { Workbench } from './workbench/Workbench';

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
      </header>
      <main className="app-main">
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
