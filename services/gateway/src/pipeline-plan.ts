import { createHash } from 'node:crypto';
import {
  type AssetRef,
  type CommandPayloads,
  DRAFT_RESOLUTION,
  type JobResults,
  type OutputResolution,
  RESOLUTION_SIZE,
  type RemakeTarget,
} from '@mt/contracts';
import type { AssetRow, JobView, ProjectView } from './db/index.js';

// What a pipeline makes, as pure functions of its plan: the coordinator and the job requests share them.

type ClipResult = JobResults['transition'];

/** What a pipeline will make, fixed when it starts so later edits to the project cannot change it. */
export interface PipelinePlan {
  project_id: string;
  photos: AssetRef[];
  music: AssetRef | null;
  /** The project's; `480p` (DRAFT_RESOLUTION) for a draft preview only. */
  resolution: OutputResolution;
  fps: 24 | 25 | 30;
  seconds: 6 | 10;
  style: 'auto' | 'generative' | 'classic';
  epilogue: { name: string | null; born: string | null; died: string | null; title: string | null } | null;
  /** A remake: the one pair made again (with a fresh seed) … */
  remake?: RemakeTarget & { seed: number };
  /** Issue 13: the photos' captions shown in the video, by asset id (none when the caption style is `off`). Absent in older plans. */
  captions?: Record<string, string>;
  /** … and the clips kept from earlier runs, by step key; only the other steps are made. */
  reuse?: Record<string, { job_id: string; clip: ClipResult }>;
  /** A draft preview: 480p, classic transitions; its render never becomes the memorial's video. */
  draft?: true;
}

export const assetRef = (a: AssetRow): AssetRef => ({ asset_id: a.id, key: a.object_key, content_type: a.content_type });

/** Same pair of photos, same transition: the seed comes from the pair, so re-runs look the same. */
export const pairSeed = (a: string, b: string, take = '') => createHash('sha256').update(`${a}>${b}${take}`).digest().readUInt32BE(0);

export function planFor(p: ProjectView, photos: AssetRow[], music: AssetRow | null): PipelinePlan {
  return {
    project_id: p.id,
    photos: photos.map(assetRef),
    music: music ? assetRef(music) : null,
    resolution: p.resolution as PipelinePlan['resolution'],
    fps: p.fps as PipelinePlan['fps'],
    seconds: p.transition_seconds as PipelinePlan['seconds'],
    style: p.transition_style as PipelinePlan['style'],
    epilogue: p.subject_name || p.born || p.died ? { name: p.subject_name ?? null, born: p.born ?? null, died: p.died ?? null, title: p.title } : null,
    captions: p.caption_style === 'off' ? {} : Object.fromEntries(photos.filter((a) => a.caption).map((a) => [a.id, a.caption!])),
  };
}

/**
 * The captions a transition from → to shows (null when it shows none): part of its payload, and of
 * what a remake compares before it reuses a clip. `opening`: the clip starts the video.
 */
export function clipCaptions(plan: PipelinePlan, from: string, to: string, opening: boolean): CommandPayloads['transition']['captions'] {
  const c = plan.captions ?? {};
  const a = c[from] ?? null;
  const b = c[to] ?? null;
  return a || b ? { from: a, to: b, opening: opening && !!a } : null;
}

/** The caption the closing clip of `assetId` shows (null: none). */
export const lastCaption = (plan: PipelinePlan, assetId: string): string | null => plan.captions?.[assetId] ?? null;

/**
 * The draft preview of a plan: same photos, order, music, fps, length, seeds and epilogue, at 854×480
 * with classic transitions only (never the model server). Its canvases and clips are keyed by `480p`,
 * so reuse (which matches the resolution) never mixes them with a full render's.
 */
export const draftPlan = (plan: PipelinePlan): PipelinePlan => ({ ...plan, resolution: DRAFT_RESOLUTION, style: 'classic', draft: true });

/** Where a pipeline's video is served: the memorial's video, or its draft preview. */
export const videoUrl = (plan: PipelinePlan): string => `/api/v1/projects/${plan.project_id}/${plan.draft ? 'preview' : 'video'}`;

/** Step keys of the clips, in video order: `transition:0 … transition:n-2`, then `last_clip`. */
export const clipKeys = (plan: PipelinePlan): string[] =>
  [...plan.photos.keys()]
    .slice(0, -1)
    .map((i) => `transition:${i}`)
    .concat('last_clip');

/** The photos (asset ids) whose canvases the clip at `clipKeys(plan)[i]` is made from. Pure. */
export const clipPhotos = (plan: PipelinePlan, i: number): string[] =>
  (i < plan.photos.length - 1 ? [plan.photos[i]!, plan.photos[i + 1]!] : [plan.photos.at(-1)!]).map((p) => p.asset_id);

/** Index of the pair `from → to` in the plan's order, or -1 when they are not neighbours. */
export const pairIndex = (plan: PipelinePlan, from: string, to: string): number =>
  plan.photos.findIndex((p, i) => p.asset_id === from && plan.photos[i + 1]?.asset_id === to);

export const transitionPayload = (plan: PipelinePlan, i: number): CommandPayloads['transition'] => {
  const from = plan.photos[i]!;
  const to = plan.photos[i + 1]!;
  const remade = plan.remake && plan.remake.from_asset_id === from.asset_id && plan.remake.to_asset_id === to.asset_id;
  return {
    project_id: plan.project_id,
    from,
    to,
    seconds: plan.seconds,
    style: (remade && plan.remake?.style) || plan.style,
    seed: remade ? plan.remake!.seed : pairSeed(from.asset_id, to.asset_id),
    resolution: plan.resolution,
    fps: plan.fps,
    captions: clipCaptions(plan, from.asset_id, to.asset_id, i === 0),
  };
};

export const lastClipPayload = (plan: PipelinePlan): CommandPayloads['last_clip'] => ({
  project_id: plan.project_id,
  asset: plan.photos.at(-1)!,
  seconds: plan.seconds,
  style: plan.style,
  epilogue: plan.epilogue,
  resolution: plan.resolution,
  fps: plan.fps,
  caption: lastCaption(plan, plan.photos.at(-1)!.asset_id),
});

/** Frames of the whole video: one clip per photo. */
export const videoFrames = (plan: PipelinePlan) => plan.photos.length * plan.seconds * plan.fps;

/** The canvas step also makes the soundtrack (it only needs the music and the length), off the render's path. */
export const canvasPayload = (plan: PipelinePlan): CommandPayloads['canvas'] => ({
  project_id: plan.project_id,
  photos: plan.photos,
  resolution: plan.resolution,
  fps: plan.fps,
  soundtrack: { music: plan.music, frames: videoFrames(plan) },
});

export const renderPayload = (plan: PipelinePlan, clips: string[]): CommandPayloads['render'] => ({
  project_id: plan.project_id,
  clips,
  music: plan.music,
  expected_frames: videoFrames(plan),
  resolution: plan.resolution,
  fps: plan.fps,
});

export const stepLabel = (key: string) =>
  key === 'canvas'
    ? 'Preparing the photos'
    : key === 'last_clip'
      ? 'The closing scene'
      : key === 'render'
        ? 'Putting the video together'
        : `Transition ${Number(key.split(':')[1]) + 1}`;

/** Weights: a canvas is light, a transition or the last clip is seconds of encoding, render is a copy. Kept clips count as done. */
export function pipelineProgress(plan: PipelinePlan, children: Pick<JobView, 'step_key' | 'status' | 'r_progress'>[]): number {
  const n = plan.photos.length;
  const { width } = RESOLUTION_SIZE[plan.resolution];
  const enc = plan.seconds * (width / 1280);
  const weights: Record<string, number> = { canvas: 0.4 * n, last_clip: enc, render: 0.15 * n * plan.seconds };
  for (let i = 0; i < n - 1; i++) weights[`transition:${i}`] = enc;
  let sum = 0;
  let got = 0;
  for (const [k, w] of Object.entries(weights)) {
    sum += w;
    if (plan.reuse?.[k]) {
      got += w;
      continue;
    }
    const c = children.find((x) => x.step_key === k);
    if (c) got += (w * (c.status === 'succeeded' ? 100 : Number(c.r_progress))) / 100;
  }
  return Math.min(99, Math.round((got / sum) * 1000) / 10);
}
