/** The saved sessions (one per model opened with variants): switch to one; the current one stays saved. */
import { openRestored } from '../open-model';
import { switchSession, useSession } from '../session';

export function SessionSwitcher() {
  const others = useSession((s) => s.otherSessions);
  const modelName = useSession((s) => s.modelName);
  const count = useSession((s) => s.variants.length);
  if (others.length === 0) return null;
  const go = async (id: string) => {
    const restored = await switchSession(id);
    if (restored) await openRestored(restored.name, restored.bytes);
  };
  return (
    <label className="session-switcher small" data-testid="session-switcher">
      Session{' '}
      <select value="" onChange={(e) => e.target.value && void go(e.target.value)} data-testid="session-select">
        <option value="">{modelName ? `${modelName} (${count} variant${count === 1 ? '' : 's'}, open)` : 'switch to…'}</option>
        {others.map((o) => (
          <option key={o.id} value={o.id}>{o.modelName} ({o.variants} variant{o.variants === 1 ? '' : 's'}, {o.done} with results)</option>
        ))}
      </select>
    </label>
  );
}
