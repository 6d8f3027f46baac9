/**
 * The registry's caches: TtlCache (one load shared, reloaded after the TTL, failures forgotten) and LruCache
 * (evicted by size, least recently used first).
 */
import { describe, expect, it } from 'vitest';
import { LruCache, TtlCache } from '../../../../functions/core/registry/cache.ts';

describe('TtlCache', () => {
  it('shares one load among concurrent gets and reloads after the TTL', async () => {
    let clock = 0;
    let loads = 0;
    const cache = new TtlCache<number>(1000, () => clock);
    const load = async () => ++loads;
    expect(await Promise.all([cache.get('k', load), cache.get('k', load)])).toEqual([1, 1]);
    clock = 999;
    expect(await cache.get('k', load)).toBe(1);
    clock = 1000;
    expect(await cache.get('k', load)).toBe(2);
  });

  it('forgets a failed load at once, so an outage does not poison it', async () => {
    const cache = new TtlCache<string>(60_000);
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', async () => 'up')).toBe('up');
  });
});

describe('LruCache', () => {
  it('evicts least recently used entries once their sizes pass the bound', async () => {
    const evicted: string[] = [];
    const cache = new LruCache<string>(100, (v) => evicted.push(v));
    await cache.get('a', 40, async () => 'a');
    await cache.get('b', 40, async () => 'b');
    await cache.get('a', 40, async () => 'a');
    await cache.get('c', 40, async () => 'c');
    await Promise.resolve();
    expect(evicted).toEqual(['b']);
    expect(cache.has('a') && cache.has('c') && !cache.has('b')).toBe(true);
    expect(cache.size).toBe(80);
  });

  it('keeps an entry larger than the bound while it is the newest', async () => {
    const cache = new LruCache<string>(10);
    await cache.get('small', 5, async () => 's');
    await cache.get('huge', 50, async () => 'h');
    expect(cache.has('huge')).toBe(true);
    expect(cache.has('small')).toBe(false);
  });

  it('drops a failed load without counting its size', async () => {
    const cache = new LruCache<string>(10);
    await expect(cache.get('x', 5, () => Promise.reject(new Error('bad')))).rejects.toThrow('bad');
    expect(cache.has('x')).toBe(false);
    expect(cache.size).toBe(0);
  });
});
