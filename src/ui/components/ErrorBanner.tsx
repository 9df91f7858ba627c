/** The last load error, above whatever model is still shown; dismissible. */
import { useWorkbench } from '../store';

export function ErrorBanner() {
  const error = useWorkbench((state) => state.error);
  const dismissError = useWorkbench((state) => state.dismissError);
  if (!error) return null;
  return (
    <div className="error-banner" role="alert" data-testid="error-banner" data-code={error.error.code}>
      <div className="error-text">
        <strong data-testid="error-title">Could not open {error.fileName}</strong>
        <p data-testid="error-message">{error.error.message}</p>
      </div>
      <button type="button" className="button" data-testid="error-dismiss" onClick={dismissError}>
        Dismiss
      </button>
    </div>
  );
}
