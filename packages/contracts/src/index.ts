// The one place where MemorialTube's shapes are defined: REST DTOs, bus envelopes, subjects,
// stage names, error codes. No I/O here, only zod schemas and the types inferred from them.

export * from './accounts.js';
export * from './bus.js';
export * from './enums.js';
export * from './errors.js';
export * from './links.js';
export * from './members.js';
export * from './rest.js';
export * from './webhooks.js';
