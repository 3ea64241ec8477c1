/**
 * Every third-party program the local stack installs, pinned. Changing a version here is the
 * whole upgrade: installs are cached per version, so the next `npm run stack` fetches the new one
 * and leaves the old one in the cache.
 */

/** A program built from its Go module with the machine's Go toolchain. */
export interface GoTool {
  /** Module path of the main package to build. */
  readonly pkg: string;
  /** Module version (a tag on the module proxy). */
  readonly version: string;
  /** The binary's file name. */
  readonly binary: string;
  /**
   * Modules whose go.mod has `replace` directives cannot be built by `go install pkg@version`;
   * those are downloaded with `go mod download` and built inside their own module instead.
   */
  readonly buildInModule?: { module: string; dir: string };
  /** Extra `-ldflags` (version stamps the program prints). */
  readonly ldflags?: string;
}

export const GO_TOOLS = {
  'nats-server': { pkg: 'github.com/nats-io/nats-server/v2', version: 'v2.15.2', binary: 'nats-server' },
  // MinIO publishes no semver tags on the module proxy; this pseudo-version is the
  // RELEASE.2026-02-12 source.
  minio: { pkg: 'github.com/minio/minio', version: 'v0.0.0-20260212201848-7aac2a2c5b7c', binary: 'minio' },
  // Jaeger v2 (the OpenTelemetry-collector based `cmd/jaeger`); the Go module keeps v1.x tags,
  // v1.76.0 is the source of the v2 binary released beside it.
  jaeger: {
    pkg: 'github.com/jaegertracing/jaeger/cmd/jaeger',
    version: 'v1.76.0',
    binary: 'jaeger',
    buildInModule: { module: 'github.com/jaegertracing/jaeger', dir: './cmd/jaeger' },
  },
  helm: { pkg: 'helm.sh/helm/v3/cmd/helm', version: 'v3.22.0', binary: 'helm' },
  'kubectl-validate': { pkg: 'sigs.k8s.io/kubectl-validate', version: 'v0.0.4', binary: 'kubectl-validate' },
} as const satisfies Record<string, GoTool>;

export type GoToolName = keyof typeof GO_TOOLS;

/** Apache Cassandra, as `cassandra-all` and its runtime dependencies from Maven Central. */
export const CASSANDRA = {
  groupId: 'org.apache.cassandra',
  artifactId: 'cassandra-all',
  version: '5.0.9',
} as const;
