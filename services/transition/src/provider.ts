import { type CanvasFace, type ClipCaptions, classicTransition } from '@mt/media';

export interface GenerateRequest {
  from: string;
  to: string;
  output: string;
  seconds: number;
  fps: number;
  size: { width: number; height: number };
  seed: number;
  signal: AbortSignal;
  /** Progress within the current phase, 0..1. */
  onProgress: (fraction: number) => void;
  /** Called when a provider that checks its own result moves from making it to checking it. */
  onPhase?: (phase: 'validate') => Promise<void>;
  log?: ProviderLog;
  /** Faces on the two canvases (canvas pixels), where known: the classic camera heads for them. */
  faces?: { from?: readonly CanvasFace[] | undefined; to?: readonly CanvasFace[] | undefined } | undefined;
  /** Caption PNGs of the two photos (issue 13); the classic provider draws them in, a generative clip gets them after its gate. */
  captions?: ClipCaptions | undefined;
  /** x264 threads for a clip encoded here (config.encodeThreads). */
  encodeThreads?: number | undefined;
}

/** The two log levels providers write at (the job's logger, following its stage). */
export interface ProviderLog {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

/** A way to make a transition clip from canvas A to canvas B. The generative provider slots in beside classic. */
export interface TransitionProvider {
  readonly name: 'classic' | 'generative';
  generate(req: GenerateRequest): Promise<{ detail: string; faceGuided?: { from: boolean; to: boolean } | undefined }>;
}

/** ffmpeg: slow Ken Burns motion on each photo, joined by an xfade-family transition picked by seed. */
export const classicProvider: TransitionProvider = {
  name: 'classic',
  async generate(r) {
    const plan = await classicTransition({
      from: r.from,
      to: r.to,
      output: r.output,
      seconds: r.seconds,
      fps: r.fps,
      width: r.size.width,
      height: r.size.height,
      seed: r.seed,
      signal: r.signal,
      onProgress: r.onProgress,
      faces: r.faces,
      captions: r.captions,
      encodeThreads: r.encodeThreads,
    });
    const guided = plan.faceGuided ?? { a: false, b: false };
    const toward = [guided.a && 'the first', guided.b && 'the second'].filter(Boolean).join(' and ');
    return {
      detail: `classic ${plan.transition}${toward ? `, the camera heading for the faces in ${toward} photo` : ''}`,
      faceGuided: { from: guided.a, to: guided.b },
    };
  },
};
