import { splitStatements } from './migrate';

describe('splitStatements', () => {
  it('splits at semicolons that end a line and drops comments', () => {
    const cql = `-- a comment\nCREATE TABLE a (x int PRIMARY KEY);\n\n// another\nCREATE TABLE b (\n  y text PRIMARY KEY\n);`;
    expect(splitStatements(cql)).toEqual([
      'CREATE TABLE a (x int PRIMARY KEY)',
      'CREATE TABLE b (\n  y text PRIMARY KEY\n)',
    ]);
  });
});
