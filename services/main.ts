/**
 * The single entry point of every Tern process: `node dist/services/main.js <command>`.
 */
// Tracing first: OpenTelemetry instruments modules as they are required.
import './shared/src/telemetry/register';
import { main as gateway } from './gateway/src/main';
import { main as auth } from './auth/src/main';
import { main as messaging } from './messaging/src/main';
import { main as channel } from './channel/src/main';
import { main as media } from './media/src/main';
import { runMigrate } from './shared/src/commands/migrate';
import { runMoveUser } from './auth/src/commands/move-user';

const COMMANDS: Record<string, () => Promise<void>> = {
  gateway,
  auth,
  messaging,
  channel,
  media,
  migrate: runMigrate,
  'move-user': () => runMoveUser(process.argv.slice(3)),
};

/** Commands that finish (the others serve until stopped). */
const ONE_SHOT = new Set(['migrate', 'move-user']);

/** Exit status for a configuration error (sysexits EX_CONFIG). */
const EX_CONFIG = 78;

async function run(): Promise<void> {
  const command = process.argv[2] ?? '';
  const main = COMMANDS[command];
  if (!main) {
    process.stderr.write(`usage: main.js <${Object.keys(COMMANDS).join('|')}>\n`);
    process.exit(64);
  }
  try {
    await main();
    if (ONE_SHOT.has(command)) process.exit(0);
  } catch (err) {
    if (err instanceof Error && err.name === 'ConfigError') {
      process.stderr.write(`tern ${command}: ${err.message}\n`);
      process.exit(EX_CONFIG);
    }
    process.stderr.write(
      `tern ${command}: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    if (err instanceof Error && err.cause instanceof Error)
      process.stderr.write(`  caused by: ${err.cause.message}\n`);
    process.exit(1);
  }
}

void run();
