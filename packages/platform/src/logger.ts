import { type Logger, pino } from 'pino';
import { config } from './config.js';

export type { Logger };

/** JSON logs; every line about a job carries service, job_id, trace_id and stage (see jobLogger). */
export function createLogger(service: string): Logger {
  return pino({ level: config.logLevel, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}

export function jobLogger(log: Logger, job: { job_id: string; trace_id: string }, stage: string | null = null): Logger {
  return log.child({ job_id: job.job_id, trace_id: job.trace_id, stage });
}
