import { FIELD_MAX_BYTES, glueColumns, LINE_COLUMNS, sqlColumnDefinitions } from '../../src/core/schema.js';

describe('the record contract', () => {
  it('bounds every string column, and the Redshift DDL and the Glue comments use the bound', () => {
    // Arrange
    const strings = LINE_COLUMNS.filter((c) => c.type === 'string');
    // Act
    const ddl = sqlColumnDefinitions();
    const glue = glueColumns();
    // Assess
    expect(strings.map((c) => c.name).sort()).toEqual(Object.keys(FIELD_MAX_BYTES).sort());
    for (const column of strings) {
      const bound = FIELD_MAX_BYTES[column.name as keyof typeof FIELD_MAX_BYTES];
      expect('maxBytes' in column && column.maxBytes).toBe(bound);
      expect(ddl).toContainEqual(expect.stringMatching(new RegExp(`^${column.name} VARCHAR\\(${bound}\\)`)));
      expect(glue.find((g) => g.Name === column.name)?.Comment).toContain(`at most ${bound} bytes`);
    }
  });
});
