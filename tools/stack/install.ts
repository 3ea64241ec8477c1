/**
 * Installs the pinned third-party programs into the cache, once per version: Go programs
 * (NATS, MinIO, Jaeger, helm, kubectl-validate) with the machine's Go toolchain, Cassandra
 * from Maven Central with Maven. Every install writes to a temporary name and renames into
 * place last, so an interrupted install is simply redone next time.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { join } from 'node:path';
import { capture, run } from './exec';
import { paths } from './paths';
import { CASSANDRA, GO_TOOLS, type GoTool, type GoToolName } from './versions';

function say(line: string): void {
  process.stderr.write(`stack: ${line}\n`);
}

/** Absolute path of a pinned Go program, building it first if this version is not cached. */
export async function ensureTool(name: GoToolName): Promise<string> {
  const tool: GoTool = GO_TOOLS[name];
  const dir = join(paths.cacheBin, `${name}@${tool.version}`);
  const bin = join(dir, tool.binary);
  if (existsSync(bin)) return bin;
  say(`installing ${name} ${tool.version} with go (first time only; can take minutes)`);
  const started = Date.now();
  const logFile = join(paths.cacheBin, '..', 'logs', `install-${name}-${tool.version}.log`);
  const tmp = join(paths.cacheBin, `.tmp-${name}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const env = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-trimpath' };
  if (tool.buildInModule) {
    const src = await moduleSource(tool.buildInModule.module, tool.version, env, logFile);
    await run('go', ['build', '-o', join(tmp, tool.binary), tool.buildInModule.dir], {
      cwd: src,
      env,
      logFile,
    });
  } else {
    await run('go', ['install', `${tool.pkg}@${tool.version}`], { env: { ...env, GOBIN: tmp }, logFile });
  }
  mkdirSync(dir, { recursive: true });
  renameSync(join(tmp, tool.binary), bin);
  rmSync(tmp, { recursive: true, force: true });
  say(`installed ${name} ${tool.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  return bin;
}

/** A writable copy of a module's source (the module cache is read-only). */
async function moduleSource(
  module: string,
  version: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
): Promise<string> {
  const dest = join(paths.cacheSrc, `${module.replaceAll('/', '_')}@${version}`);
  if (existsSync(join(dest, 'go.mod'))) return dest;
  await run('go', ['mod', 'download', `${module}@${version}`], { env, logFile });
  const info = JSON.parse(await capture('go', ['mod', 'download', '-json', `${module}@${version}`], env)) as {
    Dir?: string;
  };
  if (!info.Dir) throw new Error(`go mod download did not report a directory for ${module}@${version}`);
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(info.Dir, tmp, { recursive: true });
  makeWritable(tmp);
  renameSync(tmp, dest);
  return dest;
}

function makeWritable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(p);
    else if (entry.isFile()) chmodSync(p, 0o644 | 0o200);
  }
}

/** Where a Cassandra install lives: its class path (every jar of `lib/`). */
export interface CassandraInstall {
  readonly home: string;
  readonly classpath: string;
}

/**
 * Cassandra as a plain Java program: `cassandra-all` plus its runtime dependencies, fetched by
 * Maven into the cache. Nothing from the Cassandra tarball (which is not on Maven Central) is
 * needed; the stack writes its own cassandra.yaml and logback.xml.
 */
export async function ensureCassandra(): Promise<CassandraInstall> {
  const home = join(paths.cacheBin, `cassandra@${CASSANDRA.version}`);
  const lib = join(home, 'lib');
  if (!existsSync(join(home, '.complete'))) {
    say(`installing Cassandra ${CASSANDRA.version} from Maven Central (first time only)`);
    const started = Date.now();
    const logFile = join(paths.cacheBin, '..', 'logs', `install-cassandra-${CASSANDRA.version}.log`);
    mkdirSync(home, { recursive: true });
    rmSync(lib, { recursive: true, force: true });
    writeFileSync(join(home, 'pom.xml'), cassandraPom());
    await run(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        join(home, 'pom.xml'),
        'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies',
        `-DoutputDirectory=${lib}`,
        '-DincludeScope=runtime',
      ],
      { logFile },
    );
    writeFileSync(join(home, '.complete'), `${new Date().toISOString()}\n`);
    say(`installed Cassandra ${CASSANDRA.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  const jars = readdirSync(lib).filter((f) => f.endsWith('.jar'));
  return { home, classpath: jars.map((j) => join(lib, j)).join(':') };
}

function cassandraPom(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tools/stack/install.ts: resolves Cassandra's runtime class path. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.tern.local</groupId>
  <artifactId>cassandra-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>${CASSANDRA.groupId}</groupId>
      <artifactId>${CASSANDRA.artifactId}</artifactId>
      <version>${CASSANDRA.version}</version>
    </dependency>
  </dependencies>
</project>
`;
}
