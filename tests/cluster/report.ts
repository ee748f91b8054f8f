// The cluster test's tables, as Markdown (so the README can take them as printed).
import type { FailureRow, ScaleRow } from './scenarios.js';

export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Speed-up of k replicas against one, and that as a share of k (the aim: at least 0.8). ¹ Of the
 * scheduler periods in which a transition host wanted CPU, the share in which it used its whole cap:
 * near 100 % the cap was the limit, as meant; low, the machine's other work was.
 */
export function scaleTable(rows: ScaleRow[]): string {
  const base = rows.find((r) => r.replicas === 1)?.transitionS;
  return table(
    [
      'transition replicas',
      'hosts (capped)',
      'clips',
      'transition stage',
      'speed-up',
      'speed-up / k',
      'clips per replica',
      'canvas stage',
      'render stage',
      'pipeline',
    ],
    rows.map((r) => {
      const speedup = base ? base / r.transitionS : Number.NaN;
      return [
        r.replicas,
        r.hosts,
        r.clips,
        `${r.transitionS.toFixed(1)} s`,
        `${speedup.toFixed(2)}×`,
        (speedup / r.replicas).toFixed(2),
        Object.values(r.perProcess).join(' + '),
        `${Math.round(r.cappedShare * 100)} %`,
        `${r.canvasS.toFixed(1)} s`,
        `${r.renderS.toFixed(1)} s`,
        `${r.totalS.toFixed(1)} s`,
      ];
    }),
  );
}

export function failureTable(rows: FailureRow[]): string {
  return table(
    [
      'scenario',
      'host',
      'pipelines',
      'succeeded',
      'lost',
      'stuck',
      'duplicate videos',
      'leftover processes',
      'jobs run again',
      'all done after',
      'NATS node current again after',
    ],
    rows.map((r) => [
      r.scenario,
      r.victim,
      r.pipelines,
      r.succeeded,
      r.lost,
      r.stuck,
      r.duplicates,
      r.leftover,
      r.redelivered,
      `${r.recoveryS.toFixed(1)} s`,
      r.rejoinS === null ? 'never' : `${r.rejoinS.toFixed(1)} s`,
    ]),
  );
}

/** What must hold after a failure: every pipeline made its whole video once, nothing stuck or left running. */
export function failureProblems(r: FailureRow): string[] {
  const p: string[] = [];
  if (r.succeeded !== r.pipelines) p.push(`${r.scenario}: ${r.pipelines - r.succeeded} of ${r.pipelines} pipelines did not make their video`);
  if (r.stuck) p.push(`${r.scenario}: ${r.stuck} jobs stuck`);
  if (r.duplicates) p.push(`${r.scenario}: ${r.duplicates} duplicate videos`);
  if (r.leftover) p.push(`${r.scenario}: ${r.leftover} processes left over`);
  if (r.rejoinS === null) p.push(`${r.scenario}: ${r.victim}'s NATS node never became current again`);
  return p;
}
