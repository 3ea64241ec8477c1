/**
 * Prints, one `name=path` a line, the pinned programs of the local stack that the local cluster's
 * images and commands reuse (building any that is not cached yet, exactly as `npm run stack`
 * would): nats-server, minio, jaeger, helm, and Cassandra's jar directory.
 * Usage: tsx tools/k8s/stack-tools.ts [name…]   (default: all)
 */
import { join } from 'node:path';
import { ensureCassandra, ensureTool } from '../stack/install';
import { CASSANDRA, GO_TOOLS } from '../stack/versions';

const all = ['nats-server', 'minio', 'jaeger', 'helm', 'cassandra'] as const;
type Name = (typeof all)[number];

async function main(): Promise<void> {
  const wanted = (process.argv.length > 2 ? process.argv.slice(2) : all) as Name[];
  for (const name of wanted) {
    if (name === 'cassandra') {
      const install = await ensureCassandra();
      process.stdout.write(`cassandra=${join(install.home, 'lib')}\n`);
      process.stdout.write(`cassandra_version=${CASSANDRA.version}\n`);
    } else if (name in GO_TOOLS) {
      process.stdout.write(`${name}=${await ensureTool(name)}\n`);
      process.stdout.write(`${name.replace('-', '_')}_version=${GO_TOOLS[name].version}\n`);
    } else {
      throw new Error(`unknown program ${String(name)}; known: ${all.join(', ')}`);
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
