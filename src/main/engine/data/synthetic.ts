// Built-in synthetic language: topics with Zipf-skewed frequencies, each with its own bytes and words,
// so that routing imbalance arises by itself (a batch is dominated by the frequent topics' bytes).
import { Rng } from '../rng';

export interface SyntheticOptions {
  /** bytes of text to generate */
  bytes?: number;
  topics?: number;
  /** generator seed: fixed by default so every run trains on the same language */
  seed?: number;
}

const PRINTABLE_FIRST = 33;
const PRINTABLE_COUNT = 94; // '!'..'~'

/**
 * Documents of sentences. Topic t (chosen with probability ∝ 1/(t+1)^1.3) draws words from its own
 * vocabulary, spelled with an alphabet of 8 bytes mostly private to it; words follow a per-topic
 * bigram table so there is structure to learn beyond unigram frequencies.
 */
export function syntheticText(options: SyntheticOptions = {}): Uint8Array {
  const total = options.bytes ?? 400_000;
  const topics = options.topics ?? 12;
  const rng = new Rng(options.seed ?? 20_250_221);
  const topicWeights = Array.from({ length: topics }, (_, t) => 1 / (t + 1) ** 1.3);

  const perm = alphabetPerm(rng);
  const shared = perm.slice(0, 4);
  const vocabs: number[][][] = [];
  const bigrams: number[][][] = [];
  for (let t = 0; t < topics; t++) {
    const own = ownBytes(perm, t);
    const alphabet = [...own, shared[t % 4]!, shared[(t + 1) % 4]!];
    const words: number[][] = [];
    for (let w = 0; w < 24; w++) {
      const len = 2 + rng.int(5);
      words.push(Array.from({ length: len }, () => alphabet[rng.int(alphabet.length)]!));
    }
    vocabs.push(words);
    // each word is followed mostly by one of three favourites
    bigrams.push(words.map(() => Array.from({ length: words.length }, () => 0.05 + (rng.next() < 3 / words.length ? 4 : 0))));
  }

  const out = new Uint8Array(total);
  let n = 0;
  const put = (b: number) => {
    if (n < total) out[n++] = b;
  };
  while (n < total) {
    const t = rng.pick(topicWeights);
    const sentences = 2 + rng.int(4);
    for (let s = 0; s < sentences && n < total; s++) {
      let w = rng.int(vocabs[t]!.length);
      const words = 4 + rng.int(8);
      for (let i = 0; i < words && n < total; i++) {
        for (const b of vocabs[t]![w]!) put(b);
        put(i === words - 1 ? 46 /* . */ : 32 /* space */);
        w = rng.pick(bigrams[t]![w]!);
      }
      put(32);
    }
    put(10); // a document ends with a newline
  }
  return out;
}

/** alphabets: a shuffled printable range cut into topic slices (with two shared bytes each); the first rng draws */
function alphabetPerm(rng: Rng): number[] {
  const perm = Array.from({ length: PRINTABLE_COUNT }, (_, i) => PRINTABLE_FIRST + i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return perm;
}

function ownBytes(perm: number[], t: number): number[] {
  const at = 4 + ((t * 6) % (PRINTABLE_COUNT - 10));
  return perm.slice(at, at + 6);
}

/**
 * The known topic of every byte of the synthetic language: a topic's six own bytes belong to it alone (for up to
 * 14 topics), so a token spelled with one is that topic's; shared bytes, spaces and punctuation are −1 (no topic).
 */
export function syntheticTopicOfByte(options: SyntheticOptions = {}): Int8Array {
  const topics = options.topics ?? 12;
  const perm = alphabetPerm(new Rng(options.seed ?? 20_250_221));
  const out = new Int8Array(256).fill(-1);
  const seen = new Map<number, number>();
  for (let t = 0; t < topics; t++) for (const b of ownBytes(perm, t)) seen.set(b, seen.has(b) ? -1 : t);
  for (const [b, t] of seen) out[b] = t;
  return out;
}
