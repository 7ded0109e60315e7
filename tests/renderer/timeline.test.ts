import { describe, expect, it } from 'vitest';
import { Timeline } from '../../renderer/lib/state/timeline.svelte';

describe('timeline state', () => {
  it('a new run shows its final image; steps clamp to the recorded states', () => {
    const timeline = new Timeline();
    timeline.load(51);
    expect(timeline.step).toBe(50);
    expect(timeline.lastStep).toBe(50);
    timeline.next();
    expect(timeline.step).toBe(50);
    timeline.go(-3);
    expect(timeline.step).toBe(0);
    timeline.previous();
    expect(timeline.step).toBe(0);
    timeline.go(12.4);
    expect(timeline.step).toBe(12);
    timeline.go(Number.NaN);
    expect(timeline.step).toBe(12);
    timeline.last();
    expect(timeline.atEnd).toBe(true);
    timeline.first();
    expect(timeline.step).toBe(0);
  });

  it('keeps the step when switching to a run that has it (comparing branches), not otherwise', () => {
    const timeline = new Timeline();
    timeline.load(51);
    timeline.go(20);
    timeline.load(51, true);
    expect(timeline.step).toBe(20);
    timeline.load(11, true);
    expect(timeline.step).toBe(10);
    timeline.go(3);
    timeline.load(51);
    expect(timeline.step).toBe(50);
  });

  it('plays from the start when at the end, advances one state per tick and stops at the final image', () => {
    const timeline = new Timeline();
    timeline.load(4);
    timeline.togglePlay();
    expect(timeline.playing).toBe(true);
    expect(timeline.step).toBe(0);
    expect(timeline.tick()).toBe(true);
    expect(timeline.step).toBe(1);
    timeline.tick();
    expect(timeline.tick()).toBe(false);
    expect(timeline.step).toBe(3);
    expect(timeline.playing).toBe(false);
    timeline.go(1);
    timeline.togglePlay();
    expect(timeline.step).toBe(1);
    timeline.togglePlay();
    expect(timeline.playing).toBe(false);
    expect(timeline.tick()).toBe(false);
  });

  it('loading a run stops playback, and a one-state run does not play', () => {
    const timeline = new Timeline();
    timeline.load(10);
    timeline.togglePlay();
    timeline.load(10, true);
    expect(timeline.playing).toBe(false);
    timeline.load(1);
    timeline.togglePlay();
    expect(timeline.playing).toBe(false);
    expect(() => timeline.load(-1)).toThrow(RangeError);
  });
});
