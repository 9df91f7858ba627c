import { DropZone } from './components/DropZone';
import { EmptyState } from './components/EmptyState';
import { ErrorBanner } from './components/ErrorBanner';
import { ModelSummaryView } from './components/ModelSummaryView';
import { StatusLine } from './components/StatusLine';
import { useWorkbench } from './store';

export function App() {
  const model = useWorkbench((state) => state.model);
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <h1>tflite-workbench</h1>
          <p>Inspect LiteRT models in your browser</p>
        </div>
        <DropZone />
      </header>
      <main className="app-main">
        <StatusLine />
        <ErrorBanner />
        {model ? <ModelSummaryView model={model} /> : <EmptyState />}
      </main>
    </div>
  );
}
