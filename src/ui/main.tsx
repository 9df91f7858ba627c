import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';
import { openRestored } from './open-model';
import { restoreSession } from './session';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// A saved optimization session (model + variants + results) comes back after a reload.
void restoreSession().then((restored) => {
  if (restored) void openRestored(restored.name, restored.bytes);
});
