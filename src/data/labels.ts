/**
 * From the labels people write (folder names, CSV cells) to class indices of the model's output.
 *
 * - All whole numbers ("0", "7", "473"): they are the indices.
 * - Names, with a list of class names (e.g. the model's labels file): each name's position in the
 *   list (exact match first, then ignoring case, spaces, '_' and '-'). Every name must be found,
 *   unless none is, in which case the list is taken to be unrelated and ignored.
 * - Names otherwise: their sorted order (code-unit order), as Keras' image_dataset_from_directory.
 */
import { WorkbenchError } from '../errors';
import { comparePaths } from './files';

export interface ClassIndex {
  /** One index per value given. */
  indices: number[];
  /** Index -> name, when names are known. */
  classNames: string[] | null;
  how: 'numbers' | 'class-names' | 'sorted';
}

const WHOLE_NUMBER = /^\s*\d+\s*$/;

/** A class name compared loosely: case, spaces, '_' and '-' ignored. */
export function loose(name: string): string {
  return name.toLowerCase().replace(/[\s_\-]+/g, ' ').trim();
}

/**
 * Maps label values to class indices. `what` names the values in errors ("class folder", "label").
 */
export function classIndices(values: string[], classNames: string[] | undefined, what: string): ClassIndex {
  const distinct = [...new Set(values)];
  if (distinct.length > 0 && distinct.every((v) => WHOLE_NUMBER.test(v))) {
    return { indices: values.map((v) => Number(v)), classNames: classNames ?? null, how: 'numbers' };
  }
  if (classNames && classNames.length > 0) {
    const exact = new Map<string, number>();
    const relaxed = new Map<string, number>();
    classNames.forEach((name, i) => {
      if (!exact.has(name)) exact.set(name, i);
      if (!relaxed.has(loose(name))) relaxed.set(loose(name), i);
    });
    const found = new Map<string, number>();
    const missing: string[] = [];
    for (const value of distinct) {
      const index = exact.get(value) ?? relaxed.get(loose(value));
      if (index === undefined) missing.push(value);
      else found.set(value, index);
    }
    if (missing.length === 0) return { indices: values.map((v) => found.get(v)!), classNames, how: 'class-names' };
    if (found.size > 0) {
      const shown = missing.slice(0, 5).map((m) => `'${m}'`).join(', ');
      throw new WorkbenchError(
        'bad-input',
        `${missing.length} ${what}${missing.length === 1 ? '' : 's'} (${shown}${missing.length > 5 ? ', ...' : ''}) match no class name of the model's ${classNames.length} labels while ${found.size} others do; rename them to the labels' names or use class indices.`,
      );
    }
  }
  const sorted = [...distinct].sort(comparePaths);
  const position = new Map(sorted.map((name, i) => [name, i]));
  return { indices: values.map((v) => position.get(v)!), classNames: sorted, how: 'sorted' };
}
