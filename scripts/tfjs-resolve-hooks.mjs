// Node module-resolution hook: tfjs-core's ES module build (which holds the gradient definitions
// training needs) imports './x' meaning x.js and './dir' meaning dir/index.js, as bundlers allow
// and Node does not. Resolve those two cases inside @tensorflow/tfjs-core/dist only.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export async function resolve(specifier, context, next) {
  const parent = context.parentURL ?? '';
  if (specifier.startsWith('.') && parent.includes('/@tensorflow/tfjs-core/dist/')) {
    const path = fileURLToPath(new URL(specifier, parent));
    if (!existsSync(path) || statSync(path).isDirectory()) {
      for (const candidate of [`${path}.js`, `${path}/index.js`]) {
        if (existsSync(candidate)) return next(pathToFileURL(candidate).href, context);
      }
    }
  }
  return next(specifier, context);
}
