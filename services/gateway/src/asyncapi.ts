import {
  BUS_CONTRACT_VERSION,
  busNames,
  CancelMessage,
  COMMAND_PAYLOADS,
  CommandEnvelope,
  EventKind,
  HEADER_JOB_ID,
  HEADER_TRACE_ID,
  JobEvent,
  JobType,
} from '@mt/contracts';
import { z } from 'zod';

// The event stream as a public contract: an AsyncAPI 3 document made from the zod schemas in
// @mt/contracts (zod's own JSON Schema output, as /openapi.json is made from the same kind of schemas)
// and the real subject names of busNames(). Served at /asyncapi.json; a test parses it with
// @asyncapi/parser and checks a real event against its JobEvent schema.

/**
 * JSON Schema (draft-07, which AsyncAPI's default schema format extends) of a contract, as readers
 * receive it. Named sub-schemas (zod's `definitions`, e.g. JobError) move into `shared`, the
 * document's components.schemas, and their references are pointed there.
 */
function schemaOf(t: z.ZodType, shared: Record<string, unknown>): Record<string, unknown> {
  // `input`: objects stay open (no additionalProperties: false), so a reader built on this version
  // accepts a later minor version's added fields, as the versioning rule promises.
  const out = z.toJSONSchema(t, { target: 'draft-07', io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema: _drop, definitions, ...rest } = JSON.parse(JSON.stringify(out).replaceAll('"#/definitions/', '"#/components/schemas/'));
  Object.assign(shared, definitions ?? {});
  return rest;
}

const cap = (s: string) => s.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());

/** The AsyncAPI 3.0 document of the bus under namespace `ns` (MT_NAMESPACE). */
export function asyncApiDocument(ns = 'mt') {
  const names = busNames(ns);
  const ref = (p: string) => ({ $ref: p });
  const headers = {
    type: 'object',
    properties: {
      [HEADER_JOB_ID]: { type: 'string', description: 'The job the message is about.' },
      [HEADER_TRACE_ID]: { type: 'string', description: "The job's trace id (32 hex digits)." },
      traceparent: { type: 'string', description: 'W3C trace context of the sender.' },
      'Nats-Msg-Id': { type: 'string', description: 'JetStream de-duplication id (events: the event id; commands: `<job_id>:<attempt>`).' },
    },
  };
  const schemas: Record<string, unknown> = {};
  schemas.JobEvent = schemaOf(JobEvent, schemas);
  schemas.CancelMessage = schemaOf(CancelMessage, schemas);
  schemas.CommandEnvelope = schemaOf(CommandEnvelope, schemas);
  const commandMessages: Record<string, unknown> = {};
  for (const type of JobType.options) {
    const name = `${cap(type)}Command`;
    schemas[name] = schemaOf(CommandEnvelope.extend({ type: z.literal(type), payload: COMMAND_PAYLOADS[type] }), schemas);
    commandMessages[name] = {
      name,
      title: `${type} command`,
      summary: `Asks the ${type} workers to run one ${type} job.`,
      contentType: 'application/json',
      headers,
      payload: ref(`#/components/schemas/${name}`),
    };
  }
  const commandRefs = Object.fromEntries(Object.keys(commandMessages).map((m) => [m, ref(`#/components/messages/${m}`)]));
  const jobIdParam = { description: 'The job id (as in the REST API).' };

  return {
    asyncapi: '3.0.0',
    id: 'urn:memorialtube:bus',
    info: {
      title: 'MemorialTube event stream',
      version: BUS_CONTRACT_VERSION,
      description: [
        "The NATS JetStream subjects MemorialTube's services speak: job commands, job events and cancel requests.",
        `Subjects are under the namespace \`${ns}\` (MT_NAMESPACE); streams \`${names.commandStream}\`, \`${names.eventStream}\`, \`${names.cancelStream}\`.`,
        '',
        '**Versioning.** `info.version` is the version of this contract (semantic versioning): a PATCH changes only wording;',
        'a MINOR adds what a reader can ignore (an optional field, a stage); a MAJOR removes or renames a field or subject,',
        'or changes a type. Readers ignore fields they do not know and treat an unknown stage as opaque text.',
        '',
        "**Who subscribes here.** Operators and systems inside the operator's trust (`./mt watch` is one: its own durable",
        'consumer on the event stream). Anyone else gets the same events through signed webhooks (`/api/v1/webhooks`), never NATS.',
        'Every event carries `event_id`: a subscriber that may see a redelivery de-duplicates on it.',
      ].join('\n'),
      license: { name: 'Proprietary' },
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: '{host}',
        protocol: 'nats',
        description: "The operator's NATS with JetStream (NATS_URL; comma-separated nodes of a cluster).",
        variables: { host: { default: 'localhost:4222', description: 'host:port of a NATS node' } },
        bindings: { nats: {} },
      },
    },
    channels: {
      jobEvents: {
        address: names.event('{jobId}', '{kind}' as EventKind),
        title: 'Job events',
        description: `Every job's progress, in order per job, kept 7 days in stream \`${names.eventStream}\` (subscribe to \`${names.eventWildcard}\`, or \`${names.eventsOfJob('<jobId>')}\` for one job).`,
        servers: [ref('#/servers/nats')],
        parameters: {
          jobId: jobIdParam,
          kind: { description: 'The event kind (also the `kind` field).', enum: [...EventKind.options] },
        },
        messages: {
          JobEvent: ref('#/components/messages/JobEvent'),
        },
      },
      commands: {
        address: names.command('{type}' as JobType),
        title: 'Job commands',
        description: `Work queue stream \`${names.commandStream}\`; one durable consumer per type (\`${names.consumer('cmd_<type>')}\`) shared by all replicas of its service.`,
        servers: [ref('#/servers/nats')],
        parameters: { type: { description: 'The job type.', enum: [...JobType.options] } },
        messages: commandRefs,
      },
      cancels: {
        address: names.cancel('{jobId}'),
        title: 'Cancel requests',
        description: `Kept in stream \`${names.cancelStream}\` (the last per job), so a worker that starts later sees it.`,
        servers: [ref('#/servers/nats')],
        parameters: { jobId: jobIdParam },
        messages: { CancelMessage: ref('#/components/messages/CancelMessage') },
      },
    },
    operations: {
      publishJobEvents: {
        action: 'send',
        title: 'Services publish job events',
        channel: ref('#/channels/jobEvents'),
        messages: [ref('#/channels/jobEvents/messages/JobEvent')],
      },
      consumeCommands: {
        action: 'receive',
        title: 'Workers pull job commands',
        channel: ref('#/channels/commands'),
        messages: Object.keys(commandMessages).map((m) => ref(`#/channels/commands/messages/${m}`)),
      },
      receiveCancels: {
        action: 'receive',
        title: 'Workers abort a job on a cancel request',
        channel: ref('#/channels/cancels'),
        messages: [ref('#/channels/cancels/messages/CancelMessage')],
      },
    },
    components: {
      schemas,
      messages: {
        JobEvent: {
          name: 'JobEvent',
          title: 'Job event',
          summary: 'A job started, moved on, or ended.',
          contentType: 'application/json',
          headers,
          payload: ref('#/components/schemas/JobEvent'),
        },
        CancelMessage: {
          name: 'CancelMessage',
          title: 'Cancel request',
          contentType: 'application/json',
          headers,
          payload: ref('#/components/schemas/CancelMessage'),
        },
        ...commandMessages,
      },
    },
  };
}
