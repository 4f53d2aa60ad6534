import { splitStatements, stripComments } from '../../src/analytics/sql-text.js';

describe('splitStatements', () => {
  it('splits on semicolons and drops the empty tail', () => {
    // Act
    const statements = splitStatements('CREATE TABLE t (a INT);\nINSERT INTO t VALUES (1);\n');
    // Assess
    expect(statements).toEqual(['CREATE TABLE t (a INT)', 'INSERT INTO t VALUES (1)']);
  });

  it('ignores semicolons inside strings, quoted identifiers and comments', () => {
    // Prepare
    const sql = [
      "INSERT INTO t VALUES ('a;b', 'it''s; fine');",
      'SELECT "odd;name" FROM t; -- a comment; with a semicolon',
      '/* a block; comment */ SELECT 2',
    ].join('\n');
    // Act
    const statements = splitStatements(sql);
    // Assess
    expect(statements).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
      'SELECT "odd;name" FROM t',
      '-- a comment; with a semicolon\n/* a block; comment */ SELECT 2',
    ]);
  });

  it('drops pieces that hold only comments', () => {
    expect(splitStatements('SELECT 1;\n-- the end\n/* really */\n')).toEqual(['SELECT 1']);
  });
});

describe('stripComments', () => {
  it('blanks comments but keeps strings and line numbers', () => {
    // Act
    const code = stripComments("SELECT '--not a comment' -- DISTINCT ON\n/* two\nlines */ FROM t");
    // Assess
    expect(code).toContain("'--not a comment'");
    expect(code).not.toContain('DISTINCT');
    expect(code.split('\n')).toHaveLength(3);
    expect(code.split('\n')[2]!.trim()).toBe('FROM t');
  });
});
