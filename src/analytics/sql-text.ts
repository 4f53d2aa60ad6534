/**
 * Splitting SQL files into statements, as both the Redshift Data API (one string per statement) and error
 * reports (which statement failed) need. A small lexer, not a parser: it knows just enough to find the
 * semicolons that end statements, skipping those inside 'strings', "identifiers", -- comments and
 * block comments.
 */

/**
 * The statements of a SQL text, trimmed, without their final `;`. A piece holding only comments and
 * whitespace is no statement and is dropped.
 *
 * @example splitStatements("CREATE TABLE t (a INT); -- done;\nINSERT INTO t VALUES (1);")
 *   // ['CREATE TABLE t (a INT)', '-- done;\nINSERT INTO t VALUES (1)']
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'" || ch === '"') {
      i = skipQuoted(sql, i, ch);
    } else if (ch === '-' && next === '-') {
      i = skipLineComment(sql, i);
    } else if (ch === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (ch === ';') {
      push(statements, sql.slice(start, i));
      start = i + 1;
      i++;
    } else {
      i++;
    }
  }
  push(statements, sql.slice(start));
  return statements;
}

/**
 * The SQL with comments blanked out (newlines kept, so line numbers hold) and strings left intact: what
 * lint rules look at, so that a comment may mention `DISTINCT ON` while the code may not.
 */
export function stripComments(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === "'" || ch === '"') {
      const end = skipQuoted(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
    } else if (ch === '-' && next === '-') {
      // Up to the newline, which stays: line numbers in the result are those of the input.
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      out += ' ';
    } else if (ch === '/' && next === '*') {
      const end = skipBlockComment(sql, i);
      out += sql.slice(i, end).replace(/[^\n]/g, ' ');
      i = end;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function push(statements: string[], piece: string): void {
  const text = piece.trim();
  if (stripComments(text).trim() !== '') statements.push(text);
}

/** Index just past a quoted run; a doubled quote ('it''s') is an escaped quote, not the end. */
function skipQuoted(sql: string, open: number, quote: string): number {
  let i = open + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

function skipLineComment(sql: string, start: number): number {
  const end = sql.indexOf('\n', start);
  return end === -1 ? sql.length : end + 1;
}

function skipBlockComment(sql: string, start: number): number {
  const end = sql.indexOf('*/', start + 2);
  return end === -1 ? sql.length : end + 2;
}
