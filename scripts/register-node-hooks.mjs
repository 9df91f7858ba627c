// `node --import ./scripts/register-node-hooks.mjs`: see tfjs-resolve-hooks.mjs for why.
import { register } from 'node:module';

register('./tfjs-resolve-hooks.mjs', import.meta.url);
