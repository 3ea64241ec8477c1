/**
 * A grpc.health.v1 client for tests and tooling, built from the health proto that the
 * grpc-health-check package ships (the same definition the services serve).
 */
import { makeClientConstructor } from '@grpc/grpc-js';
import { healthServiceDefinition } from '../../services/shared/src/health/health';

export const HealthClient = makeClientConstructor(healthServiceDefinition, 'grpc.health.v1.Health');
