import { type Context, context, propagation, type Span, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

let sdk: NodeSDK | undefined;

/** Keeps spans recording (so trace ids are real) when no exporter is configured. */
const recordOnly: SpanProcessor = {
  onStart() {},
  onEnd() {},
  forceFlush: async () => {},
  shutdown: async () => {},
};

/**
 * Starts OpenTelemetry's Node SDK. With OTEL_EXPORTER_OTLP_ENDPOINT set, spans go to that collector
 * (the SDK reads the standard OTEL_* variables); without it spans are kept in-process only, so ids
 * are still real W3C trace ids and no connection errors fill the logs.
 */
export function startTelemetry(service: string): void {
  if (sdk) return;
  const exporting = Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!exporting) {
    process.env.OTEL_LOGS_EXPORTER ??= 'none';
    process.env.OTEL_METRICS_EXPORTER ??= 'none';
  }
  sdk = new NodeSDK({ serviceName: service, ...(exporting ? {} : { spanProcessors: [recordOnly] }) });
  sdk.start();
}

export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown().catch(() => {});
  sdk = undefined;
}

export const tracer = () => trace.getTracer('memorialtube');

/** Starts a new root span: its trace id becomes a new job's trace id. */
export function startRootSpan(name: string): Span {
  return tracer().startSpan(name, { root: true });
}

/** Headers (`traceparent`) that carry a span's context to the next service. */
export function traceHeaders(span: Span): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier;
}

export function contextFromHeaders(carrier: Record<string, string>): Context {
  return propagation.extract(context.active(), carrier);
}

/** A traceparent for a known trace id, for messages that continue a job's trace without a live span. */
export function traceparentFor(traceId: string, spanId = randomSpanId()): string {
  return `00-${traceId}-${spanId}-01`;
}

function randomSpanId(): string {
  return crypto.getRandomValues(new Uint8Array(8)).reduce((s, b) => s + b.toString(16).padStart(2, '0'), '');
}
