/** A polite live region: what is loading now, or which model was last opened. */
import { formatBytes } from '../format';
import { useWorkbench } from '../store';

export function StatusLine() {
  const loading = useWorkbench((state) => state.loading);
  const model = useWorkbench((state) => state.model);
  let text = '';
  if (loading) {
    const size = loading.fileBytes === null ? '' : ` (${formatBytes(loading.fileBytes)})`;
    text = `Reading ${loading.fileName}${size}…`;
  } else if (model) {
    text = `Opened ${model.fileName}.`;
  }
  return (
    <p className={loading ? 'status status-loading' : 'status visually-hidden'} role="status" data-testid="status">
      {loading && <span className="spinner" aria-hidden="true" />}
      {text}
    </p>
  );
}
