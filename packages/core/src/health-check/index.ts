export {
  HEALTH_PREFIX,
  type HealthCheckDeps,
  type HealthCheckInput,
  type HealthCheckOutcome,
  type HealthCheckResult,
  healthCheckInputSchema,
  runHealthCheck,
} from './runHealthCheck.js';
