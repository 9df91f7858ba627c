import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';
import { restoreOnLoad } from './open-model';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// A saved optimization session (model + variants + results) comes back after a reload, unless the
// user opened a model first (it would replace theirs; the saved one stays in the session switcher).
void restoreOnLoad();
