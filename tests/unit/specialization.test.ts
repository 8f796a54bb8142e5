// Expert specialisation: I(topic; expert) worked by hand, the synthetic language's known topic per byte, and the
// metric from a real (micro) evaluation.
import { beforeAll, describe, expect, it } from 'vitest';
import { topicExpertMI } from '../../src/shared/specialization';
import { syntheticText, syntheticTopicOfByte } from '../../src/main/engine/data/synthetic';
import { Trainer } from '../../src/main/engine/train/trainer';
import { MICRO, config, useBackend } from './engine/helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('topic–expert mutual information', () => {
  it('by hand: perfect specialisation of 2 equal topics = 1 bit; independence = 0; partial in between', () => {
    expect(topicExpertMI([2, 0, 0, 2], 2, 2).mi).toBeCloseTo(1, 12);
    expect(topicExpertMI([1, 1, 1, 1], 2, 2).mi).toBeCloseTo(0, 12);
    // p = [[3/8, 1/8], [1/8, 3/8]]: I = 2·(3/8)·log2(3/2) + 2·(1/8)·log2(1/2) = 0.75·0.58496 − 0.25 = 0.18872
    expect(topicExpertMI([3, 1, 1, 3], 2, 2).mi).toBeCloseTo(0.75 * Math.log2(1.5) - 0.25, 12);
    expect(topicExpertMI([3, 1, 1, 3], 2, 2).topicEntropy).toBeCloseTo(1, 12);
  });

  it('the synthetic language: a document (one line) uses the own bytes of one topic only', () => {
    const map = syntheticTopicOfByte();
    expect(new Set(Array.from(map).filter((t) => t >= 0))).toEqual(new Set(Array.from({ length: 12 }, (_, i) => i)));
    const text = syntheticText({ bytes: 50_000 });
    let docs = 0;
    let topics = new Set<number>();
    for (const b of text) {
      if (b === 10) {
        expect(topics.size).toBeLessThanOrEqual(1);
        if (topics.size) docs++;
        topics = new Set();
      } else if (map[b]! >= 0) topics.add(map[b]!);
    }
    expect(docs).toBeGreaterThan(50);
  });

  it('an evaluation on synthetic data reports I(topic; expert) per layer, within [0, min(H, log2 E)]', async () => {
    const data = { label: 'synthetic (test)', bytes: syntheticText({ bytes: 30_000 }) };
    const tr = new Trainer(config({ preset: 'custom', model: MICRO, strategy: 'none', steps: 5, evalEvery: 0, oracleEvery: 0, topTokensEvery: 0, backend: 'cpu' }), data);
    try {
      for (let i = 0; i < 5; i++) await tr.trainStep();
      const ev = await tr.evaluate();
      expect(ev.topicMIL).toHaveLength(MICRO.layers);
      for (const mi of ev.topicMIL!) {
        expect(mi).toBeGreaterThan(0); // a router that reads bytes already separates some topics
        expect(mi).toBeLessThanOrEqual(Math.min(ev.topicEntropy!, Math.log2(MICRO.experts)) + 1e-9);
      }
    } finally {
      tr.dispose();
    }
  });
});
