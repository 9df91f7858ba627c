/** The optimization workbench under the model summary: wizard, data, experiments, results. */
import { clearSession, useSession } from '../session';
import { WizardPanel } from '../wizard/WizardPanel';
import { DataPanel } from './DataPanel';
import { ExperimentsPanel } from './ExperimentsPanel';
import { ResultsPanel } from './ResultsPanel';

export function Workbench() {
  const modelName = useSession((s) => s.modelName);
  const restoredNote = useSession((s) => s.restoredNote);
  if (!modelName) return null;
  return (
    <div className="workbench" data-testid="workbench">
      {restoredNote && (
        <p className="restored" role="status" data-testid="restored-note">
          {restoredNote}{' '}
          <button type="button" className="link-button" onClick={() => void clearSession()}>Start over</button>
        </p>
      )}
      <WizardPanel />
      <DataPanel />
      <ExperimentsPanel />
      <ResultsPanel />
    </div>
  );
}
