/**
 * Side-effect module: starts tracing for the command named in argv. services/main.ts
 * imports it before anything else so that OpenTelemetry is in place before
 * @grpc/grpc-js or cassandra-driver is first required (imports compile to requires in
 * source order).
 */
import { startTracing } from './tracing';

const command = process.argv[2];
if (command && command !== 'migrate') startTracing({ serviceName: `tern-${command}` });
