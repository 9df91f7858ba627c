/**
 * CSV as spreadsheets and pandas write it (RFC 4180): comma-separated, fields optionally in double
 * quotes (a quote inside doubled), CRLF or LF line ends, a byte-order mark tolerated.
 */
import { WorkbenchError } from '../errors';

/** Rows of fields; blank lines are dropped. */
export function parseCsv(text: string, label = 'the CSV file'): string[][] {
  return parseCsvLines(text, label).map((row) => row.fields);
}

/** A row with the line of the file it starts on (1-based), for messages that name it. */
export interface CsvRow {
  fields: string[];
  line: number;
}

/** Rows of fields with their line numbers; blank lines are dropped. */
export function parseCsvLines(text: string, label = 'the CSV file'): CsvRow[] {
  const rows: CsvRow[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    row.push(field);
    if (row.length > 1 || row[0].trim() !== '') rows.push({ fields: row, line: rowLine });
    row = [];
    field = '';
  };
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
    } else if (ch === '"' && field === '') {
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += ch;
    }
  }
  if (quoted) throw new WorkbenchError('bad-input', `Cannot read ${label}: a quoted field opened before line ${line} is never closed.`);
  if (field !== '' || row.length > 0) endRow();
  return rows;
}
