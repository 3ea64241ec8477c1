import { readFileSync } from 'node:fs';
import { BEGIN, DOC, END, readersText, renderReference, spliceGenerated } from './reference';
import { loadCommands, type Command } from './specs';

/** Markdown with table padding and separator widths removed (Prettier adds them). */
function normalized(md: string): string {
  return md
    .split('\n')
    .map((line) => {
      if (!line.startsWith('|')) return line.trim();
      const cells = line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim());
      return cells.every((c) => /^-+$/.test(c)) ? cells.map(() => '---').join('|') : cells.join('|');
    })
    .filter((line) => line !== '')
    .join('\n');
}

describe('docs/configuration.md settings reference', () => {
  let commands: Command[];
  beforeAll(async () => {
    commands = await loadCommands();
  });

  it('is current (npm run config:docs rewrites it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const section = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END));
    expect(normalized(section)).toEqual(normalized(renderReference(commands)));
  });

  it('lists every variable some command reads, once', () => {
    const table = renderReference(commands);
    for (const c of commands)
      for (const name of c.settings.keys())
        expect(table.match(new RegExp(`\\| \`${name}\` \\|`, 'g'))).toHaveLength(1);
  });

  it('names readers briefly', () => {
    const all = commands.map((c) => c.name);
    const services = commands.filter((c) => c.service).map((c) => c.name);
    expect(readersText(all, commands)).toBe('all commands');
    expect(readersText([...services, 'migrate'], commands)).toBe('all services, migrate');
    expect(readersText(['media', 'migrate'], commands)).toBe('media, migrate');
  });

  it('replaces only the generated section', () => {
    const doc = `# T\n\nprose\n\n${BEGIN}\nold\n${END}\n\nmore prose\n`;
    expect(spliceGenerated(doc, 'new')).toBe(`# T\n\nprose\n\n${BEGIN}\n\nnew\n\n${END}\n\nmore prose\n`);
    expect(() => spliceGenerated('# no markers', 'x')).toThrow(/no "<!-- generated/);
  });
});
