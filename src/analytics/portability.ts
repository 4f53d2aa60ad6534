import { stripComments } from './sql-text.js';

/**
 * The rules that keep one SQL text running on two engines: `warehouse/` on Redshift and PostgreSQL,
 * `glue/` on Athena (Trino) and DuckDB. Each rule is a construct one of the engines lacks or reads
 * differently. The tests lint every SQL file with them; glue/README.md and warehouse/README.md explain
 * them.
 */
export interface PortabilityRule {
  name: string;
  pattern: RegExp;
  why: string;
}

/** Constructs that break the warehouse SQL on Redshift or on PostgreSQL. */
export const WAREHOUSE_RULES: readonly PortabilityRule[] = [
  {
    name: 'distinct-on',
    pattern: /\bDISTINCT\s+ON\b/i,
    why: 'Redshift has no DISTINCT ON; use ROW_NUMBER()',
  },
  {
    name: 'on-conflict',
    pattern: /\bON\s+CONFLICT\b/i,
    why: 'Redshift has no ON CONFLICT; insert with NOT EXISTS',
  },
  {
    name: 'truncate',
    pattern: /\bTRUNCATE\b/i,
    why: 'TRUNCATE commits the open transaction on Redshift; DELETE inside the refresh transaction',
  },
  { name: 'cast-operator', pattern: /::/, why: 'write CAST(x AS type), which every engine reads' },
  { name: 'ilike', pattern: /\bILIKE\b/i, why: 'not portable to Athena, and case rules differ' },
  {
    name: 'unquoted-raw',
    pattern: /(?<!")\braw\s*\./i,
    why: 'RAW is reserved in Redshift: write "raw".invoice_lines',
  },
  {
    name: 'redshift-only-function',
    pattern: /\b(DATEDIFF|DATEADD|GETDATE|NVL|NVL2|LISTAGG|APPROXIMATE)\s*\(/i,
    why: 'Redshift-only; PostgreSQL lacks it',
  },
  {
    name: 'postgres-only-syntax',
    pattern: /\b(RETURNING|LATERAL|GENERATE_SERIES|FILTER\s*\(\s*WHERE)\b/i,
    why: 'PostgreSQL-only; Redshift lacks it',
  },
  {
    name: 'redshift-table-attributes',
    pattern: /\b(DISTKEY|SORTKEY|DISTSTYLE|ENCODE)\b/i,
    why: 'PostgreSQL rejects them; Redshift picks keys automatically for tables created without them',
  },
  {
    name: 'transaction-control',
    pattern: /^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION)\b/im,
    why: 'the runner owns the transaction (one BatchExecuteStatement, or one PostgreSQL query)',
  },
];

/** Constructs that break the lake SQL on Athena (Trino) or on DuckDB, or make a view non-deterministic. */
export const LAKE_RULES: readonly PortabilityRule[] = [
  { name: 'cast-operator', pattern: /::/, why: 'Trino has no :: cast; write CAST(x AS type)' },
  { name: 'backtick', pattern: /`/, why: 'backticks quote only in Athena DDL; queries use double quotes' },
  { name: 'distinct-on', pattern: /\bDISTINCT\s+ON\b/i, why: 'Trino has no DISTINCT ON; use ROW_NUMBER()' },
  { name: 'ilike', pattern: /\bILIKE\b/i, why: 'Trino has no ILIKE' },
  { name: 'qualify', pattern: /\bQUALIFY\b/i, why: 'Trino has no QUALIFY; filter a subquery' },
  {
    name: 'date-add',
    pattern: /\b(date_add|dateadd|datediff|date_sub)\s*\(/i,
    why: "date_add takes (unit, n, date) in Trino but (date, interval) in DuckDB; use date_diff('day', a, b) or compare dates",
  },
  {
    name: 'interval',
    // The one form allowed: an explicit TIMESTAMP plus or minus INTERVAL '<n>' DAY, a TIMESTAMP on both.
    pattern: /(?<!\bAS\s+TIMESTAMP\s*\)\s*[+-]\s*)\bINTERVAL\b|\bINTERVAL\b(?!\s+'\d+'\s+DAY\b)/i,
    why: "DATE +/- INTERVAL is a DATE in Trino and a TIMESTAMP in DuckDB; write CAST(x AS TIMESTAMP) + INTERVAL 'n' DAY",
  },
  {
    name: 'engine-only-function',
    pattern:
      /\b(strftime|strptime|date_format|date_parse|format_datetime|list_\w+|regexp_matches|epoch_ms)\s*\(/i,
    why: 'exists on one engine only',
  },
  {
    name: 'integer-division-operator',
    pattern: /\/\//,
    why: '// is DuckDB integer division; Trino has none',
  },
  {
    name: 'clock',
    pattern: /\b(current_date|current_timestamp|now\s*\(|localtimestamp)\b/i,
    why: 'a view must be a function of the data: the same lake gives the same rows on every engine and day',
  },
  { name: 'limit-offset-comma', pattern: /\bLIMIT\s+\d+\s*,/i, why: 'MySQL syntax; neither engine reads it' },
];

export interface Violation {
  rule: string;
  why: string;
  /** 1-based line of the first match. */
  line: number;
  text: string;
}

/**
 * The rules a SQL text breaks, comments excluded (a comment may name what the code avoids).
 * @example lintSql('SELECT x::date FROM t', LAKE_RULES)[0].rule === 'cast-operator'
 */
export function lintSql(sql: string, rules: readonly PortabilityRule[]): Violation[] {
  const code = stripComments(sql);
  const out: Violation[] = [];
  for (const rule of rules) {
    const match = rule.pattern.exec(code);
    if (!match) continue;
    const line = code.slice(0, match.index).split('\n').length;
    out.push({ rule: rule.name, why: rule.why, line, text: code.split('\n')[line - 1]!.trim() });
  }
  return out;
}
