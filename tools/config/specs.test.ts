import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES } from '../../services/shared/src/config/topology';
import { loadSettings } from '../../services/shared/src/service/runtime';
import { factsOf } from './facts';
import {
  SERVICE_MODULES,
  TELEMETRY_SPEC,
  knownSettings,
  loadCommands,
  recordReads,
  serviceSpec,
  type Command,
} from './specs';

const ROOT = join(__dirname, '..', '..');

/** The keys of the COMMANDS table of services/main.ts. */
function mainCommands(): string[] {
  const text = readFileSync(join(ROOT, 'services', 'main.ts'), 'utf8');
  const block = /const COMMANDS\b[^\n]*\{\n([\s\S]*?)\n\};/.exec(text);
  if (!block) throw new Error('no COMMANDS table in services/main.ts');
  return [...block[1]!.matchAll(/^\s*'?([a-z][a-z-]*)'?\s*[:,]/gm)].map((m) => m[1]!);
}

describe('the settings of every command', () => {
  let commands: Command[];
  beforeAll(async () => {
    commands = await loadCommands();
  });

  it('covers exactly the commands services/main.ts runs, one per service', () => {
    expect(commands.map((c) => c.name).sort()).toEqual(mainCommands().sort());
    expect(
      commands
        .filter((c) => c.service)
        .map((c) => c.name)
        .sort(),
    ).toEqual([...SERVICE_NAMES].sort());
    expect(SERVICE_MODULES.map((m) => m.name).sort()).toEqual([...SERVICE_NAMES].sort());
  });

  it('composes each service spec as the runtime does (what loadSettings reads from an empty environment)', async () => {
    for (const mod of SERVICE_MODULES) {
      const read = await recordReads(mod.name, () =>
        Promise.resolve().then(() => loadSettings(mod as never)),
      );
      expect({ service: mod.name, read: [...read].sort() }).toEqual({
        service: mod.name,
        read: Object.keys(serviceSpec(mod)).sort(),
      });
    }
  });

  it('gives one variable one meaning everywhere', () => {
    const known = knownSettings();
    for (const c of commands)
      for (const [name, setting] of c.settings)
        expect({ name, same: known.get(name) === setting }).toEqual({ name, same: true });
  });

  it('reads the topology file everywhere, tracing everywhere but in migrate, TERN_ and OTEL_ names only', () => {
    for (const c of commands) {
      expect(factsOf('TERN_TOPOLOGY_FILE', c.settings.get('TERN_TOPOLOGY_FILE')!).required).toBe(true);
      for (const name of Object.keys(TELEMETRY_SPEC)) expect(c.settings.has(name)).toBe(c.name !== 'migrate');
      for (const name of c.settings.keys()) expect(name).toMatch(/^(TERN|OTEL)_[A-Z0-9_]+$/);
    }
    // migrate prepares every store, so it reads the settings of each.
    const migrate = commands.find((c) => c.name === 'migrate')!;
    for (const name of ['TERN_CASSANDRA_CONTACT_POINTS', 'TERN_NATS_URL', 'TERN_MINIO_ENDPOINT'])
      expect(migrate.settings.has(name)).toBe(true);
  });

  it('records only what a command reads, and refuses one that does not stop at its configuration', async () => {
    const fake = () => {
      void process.env.TERN_X;
      void process.env.PATH;
      return Promise.reject(Object.assign(new Error('bad'), { name: 'ConfigError' }));
    };
    await expect(recordReads('fake', fake)).resolves.toEqual(['TERN_X']);
    await expect(recordReads('done', () => Promise.resolve())).rejects.toThrow(/ran to completion/);
    await expect(recordReads('other', () => Promise.reject(new Error('boom')))).rejects.toThrow(
      /not with a ConfigError/,
    );
    expect(process.env).not.toHaveProperty('TERN_X');
  });
});
