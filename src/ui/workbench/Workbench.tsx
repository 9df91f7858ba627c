/** The optimization workbench under the model summary: wizard, data, experiments, results. */
import { useSession } from '../session';
import { WizardPanel } from '../wizard/WizardPanel';
import { DataPanel } from './DataPanel';
import { ExperimentsPanel } from './ExperimentsPanel';
import { ResultsPanel } from './ResultsPanel';

export function Workbench() {
  const modelName = useSession((s) => s.modelName);
  if (!modelName) return null;
  return (
    <div className="workbench" data-testid="workbench">
      <WizardPanel />
      <DataPanel />
      <ExperimentsPanel />
      <ResultsPanel />
    </div>
  );
}
