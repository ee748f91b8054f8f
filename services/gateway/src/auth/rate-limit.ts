import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** How many attempts a key (an email or an IP address) gets in a window. */
export interface Limit {
  points: number;
  windowSeconds: number;
}

export interface SignInLimits {
  signInPerEmail: Limit;
  signInPerIp: Limit;
  verifyPerEmail: Limit;
  verifyPerIp: Limit;
}

/**
 * 5 codes per address per 15 minutes keep an inbox from being flooded; 10 verify attempts per address
 * (each code also dies after 5 wrong guesses) keep a 6-digit code out of reach of guessing.
 */
export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = {
  signInPerEmail: { points: 5, windowSeconds: 15 * 60 },
  signInPerIp: { points: 30, windowSeconds: 15 * 60 },
  verifyPerEmail: { points: 10, windowSeconds: 15 * 60 },
  verifyPerIp: { points: 50, windowSeconds: 15 * 60 },
};

/**
 * Counters in this process's memory: right for one gateway. With several gateways, each would count
 * on its own (rate-limiter-flexible has a Postgres or Redis store for that).
 */
export class AttemptLimiter {
  private readonly limiters: Record<keyof SignInLimits, RateLimiterMemory>;

  constructor(limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS) {
    const make = (l: Limit) => new RateLimiterMemory({ points: l.points, duration: l.windowSeconds });
    this.limiters = {
      signInPerEmail: make(limits.signInPerEmail),
      signInPerIp: make(limits.signInPerIp),
      verifyPerEmail: make(limits.verifyPerEmail),
      verifyPerIp: make(limits.verifyPerIp),
    };
  }

  /** Counts one attempt for each (limit, key): null when allowed, else the seconds to wait (Retry-After). */
  async consume(what: 'sign-in' | 'verify', email: string, ip: string): Promise<number | null> {
    const pairs: Array<[RateLimiterMemory, string]> =
      what === 'sign-in'
        ? [
            [this.limiters.signInPerEmail, email],
            [this.limiters.signInPerIp, ip],
          ]
        : [
            [this.limiters.verifyPerEmail, email],
            [this.limiters.verifyPerIp, ip],
          ];
    for (const [limiter, key] of pairs) {
      try {
        await limiter.consume(key);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        return Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      }
    }
    return null;
  }
}
