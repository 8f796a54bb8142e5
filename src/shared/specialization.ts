// Expert specialisation: mutual information between a token's known topic and the experts it is routed to.
//
// Shape legend: Tp topics, E experts; countsPE (topic, expert) assignment counts, row-major [Tp*E].
// Why: balancing can force every topic's tokens across all experts (Qwen's point about micro-batch aux losses);
// I(topic; expert) in bits says how much an expert choice tells about the topic: 0 = no specialisation, at most
// min(H(topic), log2 E). Reported per layer with H(topic) so the value can be read as a share.

/** I(topic; expert) and H(topic), in bits, from joint counts. */
export function topicExpertMI(countsPE: ArrayLike<number>, topics: number, experts: number): { mi: number; topicEntropy: number } {
  let total = 0;
  for (let i = 0; i < topics * experts; i++) total += countsPE[i]!;
  if (!(total > 0)) return { mi: 0, topicEntropy: 0 };
  const pT = new Float64Array(topics);
  const pE = new Float64Array(experts);
  for (let t = 0; t < topics; t++) for (let e = 0; e < experts; e++) {
    const p = countsPE[t * experts + e]! / total;
    pT[t]! += p;
    pE[e]! += p;
  }
  let mi = 0;
  for (let t = 0; t < topics; t++) for (let e = 0; e < experts; e++) {
    const p = countsPE[t * experts + e]! / total;
    if (p > 0) mi += p * Math.log2(p / (pT[t]! * pE[e]!));
  }
  let h = 0;
  for (const p of pT) if (p > 0) h -= p * Math.log2(p);
  return { mi: Math.max(0, mi), topicEntropy: h };
}
