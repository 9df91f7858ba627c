/**
 * The import graph of the source tree, read with TypeScript's own parser, and the two rules
 * src/architecture.test.ts holds it to: arrows run down the layer order only, and no file reaches
 * itself again. An edge is any reference by which one file makes another run or shapes its types:
 * `import` (type-only too), `export ... from`, `import()`, `typeof import('...')`, and a
 * `new URL('./file', ...)` that names a source file (how a worker is started). Only relative
 * specifiers are followed; packages and `node:` modules are outside the graph.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export type EdgeKind = 'import' | 'type' | 'export' | 'dynamic' | 'url';

export interface ImportEdge {
  /** Paths relative to the root, with forward slashes. */
  from: string;
  to: string;
  kind: EdgeKind;
  line: number;
}

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;
const RESOLVE_SUFFIXES = ['', '.ts', '.tsx', '.mts', '.mjs', '.js', '/index.ts', '/index.tsx'];

/** Every source file under `dirs` (relative to `root`), forward-slashed, sorted. */
export function sourceFiles(root: string, dirs: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'node_modules') walk(path);
      } else if (SOURCE.test(name) && !name.endsWith('.d.ts')) files.push(toKey(root, path));
    }
  };
  for (const dir of dirs) if (existsSync(join(root, dir))) walk(join(root, dir));
  return files;
}

function toKey(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** The file a relative specifier names, or null (a folder, a missing file, a non-source asset). */
function resolveSpecifier(root: string, from: string, specifier: string): string | null {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return null;
  const base = resolve(root, dirname(from), specifier.split('?')[0]);
  for (const suffix of RESOLVE_SUFFIXES) {
    const candidate = base + suffix;
    if (existsSync(candidate) && statSync(candidate).isFile() && SOURCE.test(candidate)) return toKey(root, candidate);
  }
  // TypeScript's convention: './x.js' names './x.ts'.
  const swapped = base.replace(/\.js$/, '.ts');
  if (swapped !== base && existsSync(swapped)) return toKey(root, swapped);
  return null;
}

/** The edges out of one file. */
export function fileImports(root: string, file: string): ImportEdge[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : undefined);
  const edges: ImportEdge[] = [];
  const add = (specifier: ts.Node | undefined, kind: EdgeKind, at: ts.Node) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const to = resolveSpecifier(root, file, specifier.text);
    if (to) edges.push({ from: file, to, kind, line: source.getLineAndCharacterOfPosition(at.getStart()).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const typeOnly = !!node.importClause?.isTypeOnly || (!!node.importClause && !node.importClause.name && !!node.importClause.namedBindings && ts.isNamedImports(node.importClause.namedBindings) && node.importClause.namedBindings.elements.length > 0 && node.importClause.namedBindings.elements.every((e) => e.isTypeOnly));
      add(node.moduleSpecifier, typeOnly ? 'type' : 'import', node);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly ? 'type' : 'export', node);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], 'dynamic', node);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal, 'type', node);
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'URL' && node.arguments?.length) {
      add(node.arguments[0], 'url', node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** Every edge among the source files under `dirs`. */
export function importGraph(root: string, dirs: string[]): ImportEdge[] {
  return sourceFiles(root, dirs).flatMap((file) => fileImports(root, file));
}

export interface Layer {
  name: string;
  /** Lower ranks are lower layers; a file may import from a lower rank or its own layer. */
  rank: number;
  /** Lower layers it may not import all the same (beside it rather than below). */
  beside?: string[];
}

/** Layer of a root-relative path, or null for a file that belongs to no layer. */
export type LayerOf = (file: string) => Layer | null;

export interface LayerViolation {
  edge: ImportEdge;
  fromLayer: string;
  toLayer: string;
  message: string;
}

/**
 * Edges that point up the layer order (or sideways, between two layers of one rank), and edges
 * from or to a file in no layer. Edges from a file `mayReachUp` accepts are held to the second rule
 * only.
 */
export function layerViolations(edges: ImportEdge[], layerOf: LayerOf, mayReachUp: (file: string) => boolean = () => false): LayerViolation[] {
  const violations: LayerViolation[] = [];
  for (const edge of edges) {
    const from = layerOf(edge.from);
    const to = layerOf(edge.to);
    const where = `${edge.from}:${edge.line} -> ${edge.to} (${edge.kind})`;
    if (!from || !to) {
      violations.push({ edge, fromLayer: from?.name ?? '?', toLayer: to?.name ?? '?', message: `${where}: ${!from ? edge.from : edge.to} belongs to no layer` });
    } else if (from.name !== to.name && (to.rank >= from.rank || from.beside?.includes(to.name)) && !mayReachUp(edge.from)) {
      violations.push({ edge, fromLayer: from.name, toLayer: to.name, message: `${where}: ${from.name} may not import ${to.name} (${to.rank > from.rank ? 'a higher layer' : 'a layer beside it'})` });
    }
  }
  return violations;
}

export interface ImportCycle {
  /** Every file of the strongly connected component, sorted. */
  files: string[];
  /** One shortest circle through the first of them, e.g. [a, b, c, a]. */
  cycle: string[];
}

/** The circles among files: each strongly connected component with more than one file, or a file importing itself. */
export function importCycles(edges: ImportEdge[]): ImportCycle[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    if (!next.has(from)) next.set(from, []);
    if (!next.get(from)!.includes(to)) next.get(from)!.push(to);
  }
  const nodes = [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort();
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      components.push(component.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) connect(v);
  const cycles: ImportCycle[] = [];
  for (const component of components) {
    const start = component[0];
    if (component.length === 1 && !(next.get(start) ?? []).includes(start)) continue;
    // Shortest way back to `start` inside the component (breadth first).
    const members = new Set(component);
    const previous = new Map<string, string>();
    const queue = [start];
    let found = false;
    while (queue.length && !found) {
      const v = queue.shift()!;
      for (const w of next.get(v) ?? []) {
        if (!members.has(w)) continue;
        if (w === start) {
          previous.set(start, v);
          found = true;
          break;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = previous.get(start)!; v !== start; v = previous.get(v)!) path.unshift(v);
    cycles.push({ files: component, cycle: [start, ...path] });
  }
  return cycles;
}
