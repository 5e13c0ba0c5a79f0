import { ErrorCode, OcxError } from '@ocx/sdk';
import Table from 'cli-table3';
import { stringify as toYaml } from 'yaml';

/** Output formats, as python-openstackclient names them (`-f`). */
export const FORMATS = ['table', 'json', 'yaml', 'value', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface OutputOptions {
  format: Format;
  /** `-c` columns, in the order given (empty = all). */
  columns: string[];
}

export type Row = Record<string, unknown>;

/**
 * A value shown one way to people (table, value, csv) and another to programs (json, yaml), as OSC's formatter
 * columns are: Nova's power state is `Running` in a table and `1` in JSON.
 */
export class Cell {
  readonly human: string;
  readonly machine: unknown;
  constructor(human: string, machine: unknown) {
    this.human = human;
    this.machine = machine;
  }
  toJSON(): unknown {
    return this.machine;
  }
}

/** Values as JSON would have them (Cells become their machine value), for the YAML writer. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null)) as unknown;
}

/** A cell a human reads (table, value, csv): dicts as `k=v1, v2; k2=v3`, lists comma-joined, like OSC's formatters. */
export function human(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Cell) return value.human;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return value.map(human).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${human(v)}`)
      .join('; ');
  }
  return String(value);
}

const ASCII_CHARS = {
  top: '-',
  'top-mid': '+',
  'top-left': '+',
  'top-right': '+',
  bottom: '-',
  'bottom-mid': '+',
  'bottom-left': '+',
  'bottom-right': '+',
  left: '|',
  'left-mid': '+',
  mid: '-',
  'mid-mid': '+',
  right: '|',
  'right-mid': '+',
  middle: '|',
};

function table(head: string[], rows: unknown[][]): string {
  const t = new Table({ head, chars: ASCII_CHARS, style: { head: [], border: [], compact: true } });
  for (const r of rows) t.push(r.map((c) => human(c)));
  return `${t.toString()}\n`;
}

function csvCell(v: unknown): string {
  const s = human(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Pick `-c` columns (OSC's error when none is known). */
export function selectColumns(all: string[], wanted: string[]): string[] {
  if (wanted.length === 0) return all;
  const picked = wanted.filter((c) => all.includes(c));
  if (picked.length === 0) {
    throw new OcxError(
      ErrorCode.BAD_REQUEST,
      `No recognized column names in ${JSON.stringify(wanted)}. Recognized columns are ${JSON.stringify(all)}.`,
    );
  }
  return picked;
}

/** Render a list (OSC's Lister): one row per item. An empty list prints nothing in table/value form. */
export function renderList(columns: string[], rows: Row[], opts: OutputOptions): string {
  const cols = selectColumns(columns, opts.columns);
  const project = (r: Row) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null]));
  switch (opts.format) {
    case 'json':
      return `${JSON.stringify(rows.map(project), null, 2)}\n`;
    case 'yaml':
      return rows.length === 0 ? '[]\n' : toYaml(plain(rows.map(project)));
    case 'value':
      return rows.map((r) => `${cols.map((c) => human(r[c])).join(' ')}\n`).join('');
    case 'csv':
      return (
        [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n'
      );
    default:
      return rows.length === 0
        ? ''
        : table(
            cols,
            rows.map((r) => cols.map((c) => r[c])),
          );
  }
}

/** Render one object (OSC's ShowOne): a Field/Value table, or the object itself in json/yaml. */
export function renderOne(fields: string[], row: Row, opts: OutputOptions): string {
  const cols = selectColumns(fields, opts.columns);
  const obj = Object.fromEntries(cols.map((c) => [c, row[c] ?? null]));
  switch (opts.format) {
    case 'json':
      return `${JSON.stringify(obj, null, 2)}\n`;
    case 'yaml':
      return toYaml(plain(obj));
    case 'value':
      return cols.map((c) => `${human(obj[c])}\n`).join('');
    case 'csv':
      return `${cols.map(csvCell).join(',')}\n${cols.map((c) => csvCell(obj[c])).join(',')}\n`;
    default:
      return table(
        ['Field', 'Value'],
        cols.map((c) => [c, obj[c]]),
      );
  }
}
